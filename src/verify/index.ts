export type { CheckLocation, CheckResult, Severity, VerifyReport } from './check-result.ts';
export { exitCodeOf, VERIFY_EXIT } from './exit-codes.ts';
export { jsonReport } from './reports/json-report.ts';
export { junitReport } from './reports/junit-report.ts';
export { sarifReport } from './reports/sarif-report.ts';
export { progressLine, terminalSummary } from './reports/terminal-report.ts';
export { runStaticChecks } from './run-static-checks.ts';
export { openTarget, type VerifyTarget } from './verify-target.ts';
export { runDynamicChecks, type DynamicOutcome } from './dynamic/run-dynamic-checks.ts';
