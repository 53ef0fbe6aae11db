import { chmodSync } from 'node:fs';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { SandboxError } from '../errors/index.ts';
import { MAX_CALL_STREAMS } from './call-stream-handler.ts';
import type { CallLimits } from './gateway-options.ts';
import { limitMetadata } from './metadata-limit.ts';
import { enforcePingPolicy } from './ping-policy.ts';
import { refusedBeforeHandler } from './refusals.ts';

/** Room for the envelope around a payload of the maximum size. */
const MESSAGE_HEADROOM_BYTES = 64 * 1024;
/** The gateway pings each plugin connection this often, and drops one that does not answer in time. */
const KEEPALIVE_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;
/** HTTP/2 streams per connection beyond the call and stream limits: the call streams, Register, and some slack. */
const TRANSPORT_STREAM_HEADROOM = MAX_CALL_STREAMS + 4;
/** Socket mode: the socket directory (0700, owned by the sandbox user) is what keeps others out. */
const SOCKET_MODE = 0o666;

/** Told of a call refused by the transport before any handler ran (`startedMs`: performance.now()). */
export type TransportRefusal = (rpc: string, failure: SandboxError, startedMs: number) => void;

/**
 * A gateway's gRPC server: message sizes, the metadata limit (as an interceptor: grpc-js ignores
 * grpc.max_metadata_size), and transport backstops under the per-call checks. No service yet.
 */
export function createGatewayServer(limits: CallLimits, refused: TransportRefusal): Server {
  return new Server({
    'grpc.max_receive_message_length': limits.maxMessageBytes + MESSAGE_HEADROOM_BYTES,
    'grpc.max_send_message_length': limits.maxMessageBytes + MESSAGE_HEADROOM_BYTES,
    interceptors: [limitMetadata(limits.maxMetadataBytes, { response: refusedBeforeHandler, refused })],
    // Backstops under the per-call checks: the transport itself refuses more streams than the
    // limits allow, and finds dead connections. Client pings are policed by enforcePingPolicy.
    'grpc.max_concurrent_streams': limits.maxConcurrentCalls + limits.maxStreams + TRANSPORT_STREAM_HEADROOM,
    'grpc.keepalive_time_ms': KEEPALIVE_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  });
}

/**
 * Serves `server` on the unix socket `socketPath`, reachable by the sandbox's user; client pings
 * faster than `minPingIntervalMs` allows are refused (`onPingViolation`, then GOAWAY).
 */
export async function bindGateway(
  server: Server,
  socketPath: string,
  minPingIntervalMs: number,
  onPingViolation: () => void,
): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) => {
      if (err) return reject(err);
      // Before any connection can arrive: the policy must see every session.
      enforcePingPolicy(server, minPingIntervalMs, onPingViolation);
      return resolve();
    }),
  );
  chmodSync(socketPath, SOCKET_MODE);
}
