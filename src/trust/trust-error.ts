import { SandboxError } from '../errors/index.ts';
import type { PluginErrorCode } from '../errors/index.ts';

/**
 * Why a plugin was not trusted: a stable, machine-readable reason, reported by `status`, the admin
 * API and the CLI beside a message that names the certificate, serial, file or permission.
 */
export const TRUST_REASONS = {
  UNSIGNED: 'AUTHENTICATION_FAILED',
  SIGNATURE_INVALID: 'AUTHENTICATION_FAILED',
  CHAIN_UNTRUSTED: 'AUTHENTICATION_FAILED',
  ISSUER_NOT_CA: 'AUTHENTICATION_FAILED',
  PATH_LEN_EXCEEDED: 'AUTHENTICATION_FAILED',
  CODE_SIGNING_USAGE_MISSING: 'AUTHENTICATION_FAILED',
  CERT_EXPIRED: 'AUTHENTICATION_FAILED',
  CERT_NOT_YET_VALID: 'AUTHENTICATION_FAILED',
  CERT_REVOKED: 'AUTHENTICATION_FAILED',
  CERT_MALFORMED: 'AUTHENTICATION_FAILED',
  CRL_MISSING: 'AUTHENTICATION_FAILED',
  CRL_STALE: 'AUTHENTICATION_FAILED',
  CRL_INVALID: 'AUTHENTICATION_FAILED',
  CRL_MALFORMED: 'AUTHENTICATION_FAILED',
  WEAK_ALGORITHM: 'AUTHENTICATION_FAILED',
  FINGERPRINT_MISMATCH: 'AUTHENTICATION_FAILED',
  PLUGIN_ID_NOT_GRANTED: 'PERMISSION_DENIED',
  FILE_TAMPERED: 'AUTHENTICATION_FAILED',
  FILE_EXTRA: 'AUTHENTICATION_FAILED',
  FILE_MISSING: 'AUTHENTICATION_FAILED',
  FILE_SYMLINK: 'AUTHENTICATION_FAILED',
  PERMISSION_NOT_GRANTED: 'PERMISSION_DENIED',
  PERMISSION_NOT_ALLOWED: 'PERMISSION_DENIED',
} as const satisfies Record<string, PluginErrorCode>;

export type TrustReason = keyof typeof TRUST_REASONS;

export class TrustError extends SandboxError {
  readonly reason: TrustReason;
  /** The message without its reason prefix. */
  readonly detail: string;
  /** The plugin's files the reason is about (FILE_TAMPERED, FILE_EXTRA…), relative to its directory. */
  readonly files: readonly string[];

  constructor(reason: TrustReason, message: string, options?: { cause?: unknown; files?: readonly string[] }) {
    super(TRUST_REASONS[reason], `${reason}: ${message}`, options);
    this.name = 'TrustError';
    this.reason = reason;
    this.detail = message;
    this.files = options?.files ?? [];
  }
}
