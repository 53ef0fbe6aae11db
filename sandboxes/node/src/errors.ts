import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { PluginErrorCode } from './generated/classtop-plugin.ts';
import { ERROR_CODE_METADATA_KEY, GRPC_STATUS } from './generated/error-codes.ts';

// The protocol's code names and code → gRPC status table are generated from proto/ and the
// orchestrator's src/errors/error-codes.ts (scripts/generate-protocol.ts): the SDK ships alone
// inside the sandbox image, so it carries its own generated copy.

export type { PluginErrorCode };
export { ERROR_CODE_METADATA_KEY };

/** A host API call failed; `code` says why. */
export class PluginApiError extends Error {
  readonly code: PluginErrorCode;
  readonly apiName: string;

  constructor(code: PluginErrorCode, apiName: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginApiError';
    this.code = code;
    this.apiName = apiName;
  }
}

/** The plugin called a host API it holds no permission for. */
export class PermissionDeniedError extends PluginApiError {
  constructor(apiName: string, message: string, options?: { cause?: unknown }) {
    super('PERMISSION_DENIED', apiName, message, options);
    this.name = 'PermissionDeniedError';
  }
}

/** The plugin's entry could not be loaded or is not a Plugin. */
export class PluginLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginLoadError';
  }
}

/**
 * The message of a failed response: the code first, so that a peer built from the
 * specification's proto alone (no error_code field) reads it (the orchestrator's
 * src/errors/refusal.ts states the same rule; errors.test.ts checks this copy against the examples
 * in the generated contract).
 */
export function refusalText(code: PluginErrorCode, message: string): string {
  return message.startsWith(`${code}: `) ? message : `${code}: ${message}`;
}

/** The reason alone: the typed error carries the code in `code`. */
function withoutCode(message: string, code: PluginErrorCode): string {
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}

/** Turns a failed gRPC call into the matching typed error. */
export function apiErrorFrom(err: ServiceError, apiName: string): PluginApiError {
  const trailer = err.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const code =
    typeof trailer === 'string' && trailer in GRPC_STATUS ? (trailer as PluginErrorCode) : codeOfStatus(err.code);
  const message = withoutCode(err.details || err.message, code);
  return code === 'PERMISSION_DENIED'
    ? new PermissionDeniedError(apiName, message, { cause: err })
    : new PluginApiError(code, apiName, message, { cause: err });
}

/** Turns a failed answer on the gateway's CallStream into the matching typed error. */
export function apiErrorOf(response: { error_code: string; error_message: string }, apiName: string): PluginApiError {
  const code = response.error_code in GRPC_STATUS ? (response.error_code as PluginErrorCode) : 'UNKNOWN_ERROR';
  const message = withoutCode(response.error_message, code) || `${apiName} failed`;
  return code === 'PERMISSION_DENIED'
    ? new PermissionDeniedError(apiName, message)
    : new PluginApiError(code === 'OK' ? 'UNKNOWN_ERROR' : code, apiName, message);
}

function codeOfStatus(status: number): PluginErrorCode {
  if (status === GrpcStatus.UNAVAILABLE) return 'INTERNAL_ERROR';
  const found = (Object.keys(GRPC_STATUS) as PluginErrorCode[]).find((code) => GRPC_STATUS[code] === status);
  return found ?? 'UNKNOWN_ERROR';
}
