import { refusalText, type SandboxError } from '../errors/index.ts';
import type { PluginApiResponse, PluginRegisterResponse } from '../protocol/index.ts';

/**
 * Refusals are responses: a refused unary call is answered with success false, its code in
 * error_code and first in the message, which is what a client built from the specification's
 * proto decodes.
 */

const EMPTY = Buffer.alloc(0);

/** A refused or failed call's answer. */
export function failedResponse(failure: SandboxError): PluginApiResponse {
  return {
    success: false,
    error_message: refusalText(failure.code, failure.message),
    result: EMPTY,
    error_code: failure.code,
  };
}

/** A refused Register's answer. */
export function failedRegistration(failure: SandboxError): PluginRegisterResponse {
  const message = refusalText(failure.code, failure.message);
  return { success: false, message, session_token: '', error_code: failure.code, token_expires_at_ms: 0 };
}

/** The response of a unary RPC refused before its handler ran (by limitMetadata); undefined for the streams. */
export function refusedBeforeHandler(
  rpc: string,
  failure: SandboxError,
): PluginApiResponse | PluginRegisterResponse | undefined {
  if (rpc === 'CallApi') return failedResponse(failure);
  return rpc === 'Register' ? failedRegistration(failure) : undefined;
}
