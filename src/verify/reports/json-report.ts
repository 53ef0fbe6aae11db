import type { VerifyReport } from '../check-result.ts';
import { groupChecks } from './group-checks.ts';

/**
 * `--json`: shaped like Grafana's plugin-validator (`{"id", "version", "plugin-validator": {"<analyzer>":
 * [{Severity, Title, Detail, Name}]}}`), with our keys in lower case and the checks of every
 * severity (plugin-validator's verbose mode), plus the exit code and, where known, the file.
 */
export function jsonReport(report: VerifyReport, exitCode: number): string {
  const groups: Record<string, object[]> = {};
  for (const [group, checks] of groupChecks(report.checks)) {
    groups[group] = checks.map((c) => ({
      severity: c.severity,
      title: c.title,
      detail: c.detail,
      name: c.code,
      ...(c.location ? { file: c.location.file, ...(c.location.line ? { line: c.location.line } : {}) } : {}),
    }));
  }
  const body = {
    id: report.plugin?.id ?? null,
    version: report.plugin?.version ?? null,
    source: report.source,
    engine: report.engine,
    exitCode,
    'classtop-verify': groups,
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}
