// The image's HEALTHCHECK: a real gRPC call to the plugin's own socket, as the orchestrator's
// health ping makes it: CallApi of a reserved name no plugin exports. An answer (OK, or NOT_FOUND
// for "no such function") proves the plugin's gRPC server and event loop are alive; no socket, no
// answer within the time, or any other status is unhealthy (exit 1). Only node's own http2, so
// the probe stays small beside the plugin in its memory and pids limits.
import http2 from 'node:http2';
import net from 'node:net';

const SOCKET = process.env.CLASSTOP_PLUGIN_SOCKET ?? '/run/classtop/plugin.sock';
const METHOD = '/classtop.plugin.ClassTopPluginService/CallApi';
const HEALTH_FUNCTION = '__classtop_health__';
/** Below Docker's own timeout, so that the probe says why it failed. */
const TIMEOUT_MS = 3_000;
const GRPC_OK = '0';
const GRPC_NOT_FOUND = '5';

/** PluginApiRequest { api_name = 1 } in one gRPC frame: no compression, length, message. */
function requestFrame() {
  const name = Buffer.from(HEALTH_FUNCTION);
  const message = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

function fail(why) {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
}

setTimeout(() => fail(`no answer on ${SOCKET} within ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();
const session = http2.connect('http://localhost', { createConnection: () => net.connect(SOCKET) });
session.on('error', (err) => fail(`${SOCKET}: ${err.message}`));
const call = session.request({
  ':method': 'POST',
  ':path': METHOD,
  'content-type': 'application/grpc',
  te: 'trailers',
});
let status;
call.on('response', (headers) => (status = headers['grpc-status'] ?? status));
call.on('trailers', (trailers) => (status = trailers['grpc-status'] ?? status));
call.on('error', (err) => fail(`${METHOD}: ${err.message}`));
call.on('data', () => undefined);
call.on('end', () => {
  session.close();
  if (status === GRPC_OK || status === GRPC_NOT_FOUND) process.exit(0);
  fail(`${METHOD} answered grpc-status ${status}`);
});
call.end(requestFrame());
