import {
  ServerInterceptingCall,
  ServerListenerBuilder,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { ERROR_CODES, SandboxError, toGrpcStatus } from '../errors/index.ts';

/** What HTTP/2 adds to each field's name and value when it sizes a header list (RFC 9113 §6.5.2). */
const FIELD_OVERHEAD_BYTES = 32;

/** A call refused for its metadata: its RPC's name, the refusal, and when it arrived (performance.now()). */
export type MetadataRefused = (rpc: string, failure: SandboxError, startedMs: number) => void;

/**
 * The size of a call's metadata as HTTP/2 counts a header list: each field's name and value in
 * bytes plus 32 (the measure gRPC core's `grpc.max_metadata_size` uses). Binary values count as
 * sent, base64-encoded.
 */
export function metadataBytes(metadata: Metadata): number {
  let total = 0;
  for (const [name, values] of Object.entries(metadata.toHttp2Headers())) {
    for (const value of Array.isArray(values) ? values : [values]) {
      total += Buffer.byteLength(name) + Buffer.byteLength(String(value)) + FIELD_OVERHEAD_BYTES;
    }
  }
  return total;
}

/**
 * Enforces `maxMetadataBytes` on every call, as a grpc-js server interceptor: grpc-js ignores
 * `grpc.max_metadata_size`, so the limit is checked here, once a call's metadata has arrived and
 * before any handler runs. A call over the limit ends with INVALID_REQUEST naming the limit (the
 * gRPC status and the `classtop-error-code` trailer, as every refusal) and `onRefused` is told.
 * Far larger header blocks never get this far: Node's HTTP/2 layer resets their stream.
 */
export function limitMetadata(maxBytes: number, onRefused: MetadataRefused): ServerInterceptor {
  return (method, call: ServerInterceptingCallInterface) => {
    const started = performance.now();
    const rpc = method.path.slice(method.path.lastIndexOf('/') + 1);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next(
          new ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, pass) => {
              const size = metadataBytes(metadata);
              if (size <= maxBytes) return pass(metadata);
              const failure = new SandboxError(
                'INVALID_REQUEST',
                `${rpc}: metadata of ${size} bytes exceeds maxMetadataBytes (${maxBytes}); send less metadata`,
              );
              const { metadata: trailer } = toGrpcStatus(failure);
              call.sendStatus({ code: ERROR_CODES[failure.code].grpc, details: failure.message, metadata: trailer });
              onRefused(rpc, failure, started);
            })
            .build(),
        ),
    });
  };
}
