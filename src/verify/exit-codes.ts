import type { VerifyReport } from './check-result.ts';

/**
 * `verify`'s exit statuses. 2 is the CLI's own for a usage error. A run whose dynamic checks were
 * skipped because no Docker engine answered never exits 0: skipped is not passed.
 */
export const VERIFY_EXIT = {
  /** Every check ok (or skipped for a reason other than the engine); with --strict, no warning either. */
  PASSED: 0,
  /** At least one check is an error (with --strict: or a warning). */
  FAILED: 1,
  /** No error, but no Docker engine answered, so the plugin was not run. */
  NOT_RUN: 3,
} as const;

export function exitCodeOf(report: VerifyReport, strict: boolean): number {
  const severities = new Set(report.checks.map((c) => c.severity));
  if (severities.has('error') || (strict && severities.has('warning'))) return VERIFY_EXIT.FAILED;
  if (report.engine === 'unavailable') return VERIFY_EXIT.NOT_RUN;
  return VERIFY_EXIT.PASSED;
}
