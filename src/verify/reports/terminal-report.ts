import type { CheckResult, Severity, VerifyReport } from '../check-result.ts';
import { VERIFY_EXIT } from '../exit-codes.ts';

const MARKS: Record<Severity, string> = { ok: 'ok  ', warning: 'WARN', error: 'FAIL', skipped: 'skip' };

/** One progress line, written as each check ends (to stderr, so that --json stays alone on stdout). */
export function progressLine(check: CheckResult): string {
  const where = check.location
    ? ` [${check.location.file}${check.location.line ? `:${check.location.line}` : ''}]`
    : '';
  return `  ${MARKS[check.severity]} ${check.group} ${check.code}: ${check.title}${where}\n`;
}

/** The summary after every check: counts, each error and warning with its detail, what the exit code means. */
export function terminalSummary(report: VerifyReport, exitCode: number): string {
  const count = (s: Severity) => report.checks.filter((c) => c.severity === s).length;
  const name = report.plugin ? `${report.plugin.id}@${report.plugin.version}` : report.source;
  const lines = [
    '',
    `${name}: ${count('ok')} ok, ${count('warning')} warning(s), ${count('error')} error(s), ${count('skipped')} skipped`,
  ];
  for (const check of report.checks.filter((c) => c.severity === 'error' || c.severity === 'warning')) {
    lines.push(`  ${MARKS[check.severity]} ${check.code}: ${check.title}`, ...indent(check.detail));
  }
  if (report.engine === 'unavailable')
    lines.push('the plugin was not run: no Docker engine answered (its dynamic checks are skipped, not passed)');
  const verdict = exitCode === VERIFY_EXIT.PASSED ? 'passed' : exitCode === VERIFY_EXIT.NOT_RUN ? 'not run' : 'failed';
  lines.push(`result: ${verdict} (exit ${exitCode})`, '');
  return lines.join('\n');
}

function indent(text: string): string[] {
  return text.split('\n').map((line) => `       ${line}`);
}
