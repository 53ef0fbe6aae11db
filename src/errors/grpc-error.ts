import { Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ERROR_CODES, ERROR_CODE_METADATA_KEY, errorCodeFromGrpcStatus, isPluginErrorCode } from './error-codes.ts';
import { refusalReason, refusalText } from './refusal.ts';
import { SandboxError } from './sandbox-error.ts';

/**
 * The status a gRPC handler ends a failed call with, where no response can carry the refusal (a
 * stream refused, or ended): mapped status, the message after its code, the code trailer.
 */
export function toGrpcStatus(err: SandboxError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, err.code);
  return { code: ERROR_CODES[err.code].grpc, details: refusalText(err.code, err.message), metadata };
}

/** Turns an error a gRPC client received back into a SandboxError with its protocol code. */
export function fromGrpcError(err: ServiceError, context: string): SandboxError {
  const trailer = err.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const code = isPluginErrorCode(trailer) ? trailer : errorCodeFromGrpcStatus(err.code);
  return new SandboxError(code, `${context}: ${refusalReason(err.details || err.message)}`, { cause: err });
}
