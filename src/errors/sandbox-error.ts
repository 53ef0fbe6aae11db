import type { PluginErrorCode } from './error-codes.ts';

/**
 * A failure with a protocol error code and a message meant for the person who has to act on it
 * (plugin author or operator): what was wrong, where, and how to fix it.
 */
export class SandboxError extends Error {
  readonly code: PluginErrorCode;

  constructor(code: PluginErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxError';
    this.code = code;
  }
}

/** Wraps any thrown value as a SandboxError, keeping a SandboxError's own code. */
export function asSandboxError(err: unknown, fallbackMessage: string): SandboxError {
  if (err instanceof SandboxError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new SandboxError('INTERNAL_ERROR', `${fallbackMessage}: ${detail}`, { cause: err });
}
