import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * The one registry of error codes: each `PluginErrorCode` of the protocol with the gRPC status and
 * HTTP status it maps to. Everything that reports a failure (gateway, host, admin API, CLI) goes
 * through this table.
 */
export const ERROR_CODES = {
  OK: { number: 0, grpc: GrpcStatus.OK, http: 200 },
  UNKNOWN_ERROR: { number: 1, grpc: GrpcStatus.UNKNOWN, http: 500 },
  AUTHENTICATION_FAILED: { number: 2, grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  PERMISSION_DENIED: { number: 3, grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  INVALID_REQUEST: { number: 4, grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  TIMEOUT: { number: 5, grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504 },
  NOT_FOUND: { number: 6, grpc: GrpcStatus.NOT_FOUND, http: 404 },
  ALREADY_EXISTS: { number: 7, grpc: GrpcStatus.ALREADY_EXISTS, http: 409 },
  RATE_LIMIT_EXCEEDED: { number: 8, grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429 },
  INTERNAL_ERROR: { number: 9, grpc: GrpcStatus.INTERNAL, http: 500 },
} as const;

export type PluginErrorCode = keyof typeof ERROR_CODES;

/** Trailing metadata key that carries the `PluginErrorCode` name of a failed call. */
export const ERROR_CODE_METADATA_KEY = 'classtop-error-code';

export function isPluginErrorCode(value: unknown): value is PluginErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The code to report for a gRPC status that carried no `classtop-error-code` trailer. */
export function errorCodeFromGrpcStatus(grpcStatus: number): PluginErrorCode {
  if (grpcStatus === GrpcStatus.UNAVAILABLE) return 'INTERNAL_ERROR';
  if (grpcStatus === GrpcStatus.CANCELLED) return 'TIMEOUT';
  for (const [name, entry] of Object.entries(ERROR_CODES)) {
    if (entry.grpc === grpcStatus) return name as PluginErrorCode;
  }
  return 'UNKNOWN_ERROR';
}
