import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckResult, VerifyReport } from '../check-result.ts';

/**
 * GitHub code scanning keeps at most 5,000 results of a run (25,000 are accepted) and 10 MB of
 * gzipped SARIF: a plugin's findings are far fewer, but the caps make it certain.
 */
const MAX_RESULTS = 5_000;
const MAX_MESSAGE_CHARS = 4_096;
const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFORMATION_URI = 'https://github.com/classtop/classtop-sandbox#verify-a-plugin-in-ci';

/**
 * `--sarif FILE`: SARIF 2.1.0, one run, the static findings (errors and warnings) with their file
 * locations relative to the working directory (the repository root in CI, `%SRCROOT%`). A packed
 * `.ctp` has no files in the repository: its findings point at the archive.
 */
export function sarifReport(report: VerifyReport, toolVersion: string, cwd = process.cwd()): string {
  const findings = report.checks
    .filter((c) => c.kind === 'static' && (c.severity === 'error' || c.severity === 'warning'))
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
    .slice(0, MAX_RESULTS);
  const rules = [...new Map(findings.map((c) => [c.code, c])).values()].map((c) => ({
    id: c.code,
    name: c.code,
    shortDescription: { text: `${c.group}: ${c.code}` },
    helpUri: INFORMATION_URI,
  }));
  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: { name: 'classtop-sandbox verify', version: toolVersion, informationUri: INFORMATION_URI, rules },
        },
        results: findings.map((c) => result(c, report.source, cwd)),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function result(check: CheckResult, source: string, cwd: string) {
  const archive = source.endsWith('.ctp');
  const file = check.location?.file ?? 'plugin.yaml';
  const onDisk = archive ? source : path.join(source, file);
  const relative = path.relative(cwd, path.resolve(onDisk)).split(path.sep).join('/');
  // Inside the working directory (the repository in CI): relative to %SRCROOT%; elsewhere, a file URI.
  const artifactLocation = relative.startsWith('../')
    ? { uri: pathToFileURL(path.resolve(onDisk)).href }
    : { uri: relative, uriBaseId: '%SRCROOT%' };
  const text = `${check.title}: ${check.detail}${archive ? ` (${file} in the archive)` : ''}`;
  return {
    ruleId: check.code,
    level: check.severity === 'error' ? 'error' : 'warning',
    message: { text: text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text },
    locations: [
      {
        physicalLocation: {
          artifactLocation,
          ...(check.location?.line && !archive ? { region: { startLine: check.location.line } } : {}),
        },
      },
    ],
  };
}
