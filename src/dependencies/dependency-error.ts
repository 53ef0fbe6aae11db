import { SandboxError, type PluginErrorCode } from '../errors/index.ts';

/**
 * Why a plugin's dependencies stop it from starting: a stable, machine-readable reason that
 * `status`, the admin API and the CLI report (as the trust reasons are), beside a message naming
 * the requirement, what was found and the fix. Each maps to the PluginErrorCode a job failure
 * carries; none but the engine's own failure is worth retrying.
 */
export const DEPENDENCY_REASONS = {
  /** A python_packages requirement that neither the image nor the bundle's wheels meet. */
  DEPENDENCY_UNSATISFIED: 'NOT_FOUND',
  /** A bundled wheel that pip could not install. */
  DEPENDENCY_INSTALL_FAILED: 'INVALID_REQUEST',
  /** The resolver container itself failed (engine, limits, time): may pass on a retry. */
  DEPENDENCY_RESOLUTION_FAILED: 'INTERNAL_ERROR',
  /** dependencies.classtop_version that the host's ClassTop version does not satisfy. */
  CLASSTOP_VERSION_UNSATISFIED: 'NOT_FOUND',
} as const satisfies Record<string, PluginErrorCode>;

export type DependencyReason = keyof typeof DEPENDENCY_REASONS;

/** A python_packages requirement that cannot be met, and why (classtop.deps' words). */
export interface UnmetRequirement {
  requirement: string;
  detail: string;
}

export class DependencyError extends SandboxError {
  readonly reason: DependencyReason;
  /** DEPENDENCY_UNSATISFIED: each requirement not met, for a report that points at each (verify). */
  readonly unmet: readonly UnmetRequirement[];

  constructor(
    reason: DependencyReason,
    message: string,
    options?: { cause?: unknown; unmet?: readonly UnmetRequirement[] },
  ) {
    super(DEPENDENCY_REASONS[reason], `${reason}: ${message}`, options);
    this.name = 'DependencyError';
    this.reason = reason;
    this.unmet = options?.unmet ?? [];
  }
}
