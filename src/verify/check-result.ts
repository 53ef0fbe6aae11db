/** How a check ended. `skipped` is never a pass: it says the check could not run, and why. */
export type Severity = 'error' | 'warning' | 'ok' | 'skipped';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'ok', 'skipped'];

/** Where a static finding is, relative to the plugin directory (SARIF, the terminal). */
export interface CheckLocation {
  /** POSIX path relative to the plugin directory (plugin.yaml, index.js), or the .ctp file itself. */
  file: string;
  line?: number;
}

/** One named check's outcome: what JSON, JUnit and SARIF report and the exit code is made from. */
export interface CheckResult {
  /** The group it belongs to: the JSON key, the JUnit test suite (manifest, signature, lifecycle…). */
  group: string;
  /** Stable code: the orchestrator's own reason where it has one (FILE_TAMPERED), else the check's. */
  code: string;
  severity: Severity;
  title: string;
  detail: string;
  /** Static checks read the plugin's files; dynamic ones run it. Only static findings go to SARIF. */
  kind: 'static' | 'dynamic';
  location?: CheckLocation;
  durationMs?: number;
}

/** Everything one `verify` run found. */
export interface VerifyReport {
  /** The plugin directory or .ctp file given on the command line. */
  source: string;
  /** Absolute directory the plugin's relative locations are under (an unpacked .ctp is a temporary one). */
  root: string;
  plugin: { id: string; version: string } | null;
  checks: CheckResult[];
  /** Whether a Docker engine answered for the dynamic run; `unavailable` makes the exit code say so. */
  engine: 'answered' | 'unavailable' | 'not-run';
}

/** Builds results of one group with less repetition. */
export function resultsOf(group: string, kind: CheckResult['kind']) {
  const make =
    (severity: Severity) =>
    (code: string, title: string, detail: string, location?: CheckLocation): CheckResult => ({
      group,
      code,
      severity,
      title,
      detail,
      kind,
      ...(location ? { location } : {}),
    });
  return { error: make('error'), warning: make('warning'), ok: make('ok'), skipped: make('skipped') };
}
