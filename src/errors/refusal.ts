import { isPluginErrorCode, type PluginErrorCode } from './error-codes.ts';
import { SandboxError } from './sandbox-error.ts';

/**
 * How a refusal travels in a response body. The specification's responses carry only `success`
 * and a message (`error_message`, or `message` for Register and Lifecycle), so the message starts
 * with the `PluginErrorCode` name: a client generated from the specification's proto alone reads
 * both code and reason from what it decodes. Our proto adds `error_code` with the same code.
 */
export function refusalText(code: PluginErrorCode, message: string): string {
  return message.startsWith(`${code}: `) ? message : `${code}: ${message}`;
}

const CODE_PREFIX = /^([A-Z_]+): /;

/** The code a refusal's message starts with, when it starts with a PluginErrorCode's name. */
function codePrefix(message: string): PluginErrorCode | undefined {
  const prefixed = CODE_PREFIX.exec(message)?.[1];
  return isPluginErrorCode(prefixed) ? prefixed : undefined;
}

/** A refusal's message without the code it starts with (the code travels on its own). */
export function refusalReason(message: string): string {
  const code = codePrefix(message);
  return code === undefined ? message : message.slice(code.length + 2);
}

/**
 * The SandboxError a failed response stands for: its `error_code`, or for a peer that sets only
 * the specification's fields, the code its message starts with (UNKNOWN_ERROR when neither).
 */
export function refusalFromResponse(
  response: { error_code?: string | number | null },
  message: string,
  context: string,
): SandboxError {
  const prefixed = codePrefix(message);
  const given = response.error_code;
  let code: PluginErrorCode = 'UNKNOWN_ERROR';
  if (isPluginErrorCode(given) && given !== 'OK') code = given;
  else if (prefixed !== undefined && prefixed !== 'OK') code = prefixed;
  const reason = refusalReason(message) || 'failed without a message';
  return new SandboxError(code, `${context}: ${reason}`);
}
