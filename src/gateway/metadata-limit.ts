import {
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as GrpcStatus,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { SandboxError, toGrpcStatus } from '../errors/index.ts';

/** What HTTP/2 adds to each field's name and value when it sizes a header list (RFC 9113 §6.5.2). */
const FIELD_OVERHEAD_BYTES = 32;

export interface MetadataLimitHooks {
  /**
   * The response that carries the refusal of a unary RPC (refusals are responses); undefined
   * for a stream, which ends with the refusal as its gRPC status.
   */
  response: (rpc: string, failure: SandboxError) => object | undefined;
  /** Told of every refusal: the RPC's name, the refusal, when the call arrived (performance.now()). */
  refused: (rpc: string, failure: SandboxError, startedMs: number) => void;
}

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
 * before any handler runs. A call over the limit is refused with INVALID_REQUEST naming the limit
 * (a unary call by `hooks.response`, a stream by its gRPC status) and `hooks.refused` is told.
 * Far larger header blocks never get this far: Node's HTTP/2 layer closes their connection.
 */
export function limitMetadata(maxBytes: number, hooks: MetadataLimitHooks): ServerInterceptor {
  return (method, call) => {
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
              refuse(call, failure, hooks.response(rpc, failure));
              hooks.refused(rpc, failure, started);
            })
            .build(),
        ),
    });
  };
}

/** Ends a call that no handler will see: with `response` and status OK, or with the refusal's status. */
function refuse(call: ServerInterceptingCallInterface, failure: SandboxError, response: object | undefined): void {
  if (response !== undefined) {
    call.sendMessage(response, () => call.sendStatus({ code: GrpcStatus.OK, details: 'OK' }));
    return;
  }
  const { code = GrpcStatus.UNKNOWN, details = failure.message, metadata } = toGrpcStatus(failure);
  call.sendStatus({ code, details, metadata });
}
