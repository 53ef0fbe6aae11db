import type { CheckResult, VerifyReport } from '../check-result.ts';
import { groupChecks } from './group-checks.ts';
import { xmlText } from './xml-text.ts';

const MS_PER_S = 1000;

/**
 * `--junit FILE`: one <testsuite> per check group, one <testcase> per check and per lifecycle step,
 * so that CI systems list them. An error is a <failure> (a warning too under --strict), skipped is
 * <skipped/>, and a warning otherwise passes with its text in <system-out>.
 */
export function junitReport(report: VerifyReport, strict: boolean): string {
  const fails = (c: CheckResult) => c.severity === 'error' || (strict && c.severity === 'warning');
  const seconds = (checks: readonly CheckResult[]) =>
    (checks.reduce((sum, c) => sum + (c.durationMs ?? 0), 0) / MS_PER_S).toFixed(3);
  const counts = (checks: readonly CheckResult[]) =>
    `tests="${checks.length}" failures="${checks.filter(fails).length}" errors="0" ` +
    `skipped="${checks.filter((c) => c.severity === 'skipped').length}" time="${seconds(checks)}"`;
  const suites = [...groupChecks(report.checks)].map(
    ([group, checks]) =>
      `  <testsuite name="${xmlText(group)}" ${counts(checks)}>\n${checks.map((c) => testCase(c, fails(c))).join('')}  </testsuite>\n`,
  );
  const name = report.plugin ? `${report.plugin.id}@${report.plugin.version}` : report.source;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="${xmlText(`classtop-sandbox verify ${name}`)}" ${counts(report.checks)}>\n` +
    suites.join('') +
    '</testsuites>\n'
  );
}

function testCase(check: CheckResult, failed: boolean): string {
  const where = check.location
    ? ` (${check.location.file}${check.location.line ? `:${check.location.line}` : ''})`
    : '';
  const open =
    `    <testcase classname="classtop.verify.${xmlText(check.group)}" name="${xmlText(`${check.code}: ${check.title}`)}"` +
    ` time="${((check.durationMs ?? 0) / MS_PER_S).toFixed(3)}"`;
  const detail = xmlText(`${check.detail}${where}`);
  if (failed)
    return `${open}>\n      <failure message="${xmlText(check.title)}" type="${xmlText(check.code)}">${detail}</failure>\n    </testcase>\n`;
  if (check.severity === 'skipped') return `${open}>\n      <skipped message="${detail}"/>\n    </testcase>\n`;
  return `${open}>\n      <system-out>${xmlText(`${check.severity}: `)}${detail}</system-out>\n    </testcase>\n`;
}
