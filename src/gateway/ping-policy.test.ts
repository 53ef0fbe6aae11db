import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, type sendUnaryData } from '@grpc/grpc-js';
import { loadProtocol } from '../protocol/index.ts';
import { enforcePingPolicy } from './ping-policy.ts';

const MIN_INTERVAL_MS = 10_000;
const PINGS = 12;
const GOAWAY_WAIT_MS = 2_000;

describe('the keepalive policy on a real grpc-js server', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ping-'));
  const socket = path.join(dir, 's.sock');
  const server = new Server();
  let violations = 0;

  before(async () => {
    server.addService(loadProtocol().PluginService.service, {
      CallApi: (_call: unknown, callback: sendUnaryData<object>) =>
        callback(null, { success: true, error_message: '', result: Buffer.from('[]') }),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    enforcePingPolicy(server, MIN_INTERVAL_MS, () => violations++);
  });

  after(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect() {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
    session.on('error', () => {}); // a GOAWAY closing it is what some cases look for
    await once(session, 'connect');
    const wentAway = new Promise<string>((resolve) => {
      session.on('goaway', (_code, _last, data) => resolve(data?.toString() ?? ''));
      session.on('close', () => resolve('closed without GOAWAY'));
    });
    // Once the server has sent GOAWAY the session goes away under the loop: a ping then just ends.
    const ping = () =>
      new Promise<void>((resolve) => {
        if (session.closed || session.destroyed) return resolve();
        session.ping(() => resolve());
      });
    const settled = (ms: number) =>
      Promise.race([wentAway, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), ms))]);
    return { session, ping, settled };
  }

  /** A unary call, as a plugin's: HEADERS and DATA from the server in answer. */
  async function call(session: http2.ClientHttp2Session): Promise<void> {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/classtop.plugin.ClassTopPluginService/CallApi',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
    stream.resume();
    await once(stream, 'close');
  }

  it('closes a flood of pings', async () => {
    const { session, ping, settled } = await connect();
    for (let i = 0; i < PINGS; i++) await ping();
    assert.equal(await settled(GOAWAY_WAIT_MS), 'too_many_pings');
    session.destroy();
  });

  it('closes a flood that makes the server acknowledge SETTINGS between pings', async () => {
    const { session, ping, settled } = await connect();
    for (let i = 0; i < PINGS && !session.closed && !session.destroyed; i++) {
      session.settings({ enablePush: false });
      session.settings({ enablePush: false });
      await ping();
    }
    assert.equal(await settled(GOAWAY_WAIT_MS), 'too_many_pings');
    session.destroy();
  });

  it('keeps a client that pings after each answer, as a gRPC-core client does (BDP pings)', async () => {
    const { session, ping, settled } = await connect();
    for (let i = 0; i < PINGS; i++) {
      await call(session);
      await ping();
    }
    assert.equal(await settled(200), 'still open');
    session.destroy();
  });
});
