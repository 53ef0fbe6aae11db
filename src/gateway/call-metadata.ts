import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';

/** Where a plugin sends its session token: a request's metadata map, or the call's gRPC metadata. */
export const TOKEN_METADATA_KEY = 'session_token';

/** The session token in a call's gRPC metadata. */
export function tokenFromMetadata(metadata: Metadata): string | undefined {
  const value = metadata.get(TOKEN_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

/** The deadline a plugin set on its call (epoch ms; Infinity when none). */
export function ownDeadline(call: ServerUnaryCall<unknown, unknown>): number {
  const own = call.getDeadline();
  return own instanceof Date ? own.getTime() : own;
}
