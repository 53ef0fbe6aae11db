import type { CheckResult } from '../check-result.ts';

/** Checks by group, in the order the groups first appear. */
export function groupChecks(checks: readonly CheckResult[]): Map<string, CheckResult[]> {
  const groups = new Map<string, CheckResult[]>();
  for (const check of checks) {
    const list = groups.get(check.group) ?? [];
    list.push(check);
    groups.set(check.group, list);
  }
  return groups;
}
