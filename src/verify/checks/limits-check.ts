import { loadManifest, ManifestError, MANIFEST_FILE } from '../../manifest/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck } from './static-check.ts';

/**
 * The sandbox sizes plugin.yaml asks for, within the tenant's limits (the orchestrator's own
 * loadManifest with the config's limits) and its quota (an enable beyond it is refused).
 */
export const limitsCheck: StaticCheck = {
  name: 'limits',
  run(ctx): CheckResult[] {
    const r = resultsOf('limits', 'static');
    const m = ctx.manifest;
    if (!m) return [r.skipped('LIMITS_NOT_CHECKED', 'sandbox sizes not checked', `${MANIFEST_FILE} is invalid`)];
    const where = (field: string) => ({ file: MANIFEST_FILE, ...lineOf(ctx.manifestLine(field)) });
    const found: CheckResult[] = [];
    try {
      loadManifest(ctx.root, ctx.config.limits);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      for (const problem of err.problems) {
        const field = problem.slice(0, problem.indexOf(': '));
        found.push(r.error('LIMIT_EXCEEDED', `${field} is over the operator's limit`, problem, where(field)));
      }
    }
    const { quota } = ctx.tenant;
    if (m.sandbox.memoryMb > quota.memoryMb)
      found.push(
        r.error(
          'QUOTA_EXCEEDED',
          'sandbox.memory_mb is over the tenant quota',
          `sandbox.memory_mb ${m.sandbox.memoryMb} exceeds tenant '${ctx.tenant.id}' quota.memoryMb ${quota.memoryMb}; an enable would be refused`,
          where('sandbox.memory_mb'),
        ),
      );
    if (m.sandbox.cpus > quota.cpus)
      found.push(
        r.error(
          'QUOTA_EXCEEDED',
          'sandbox.cpus is over the tenant quota',
          `sandbox.cpus ${m.sandbox.cpus} exceeds tenant '${ctx.tenant.id}' quota.cpus ${quota.cpus}; an enable would be refused`,
          where('sandbox.cpus'),
        ),
      );
    if (found.length > 0) return found;
    const { limits } = ctx.config;
    const b = m.sandbox;
    const detail =
      `memory ${b.memoryMb}/${limits.maxMemoryMb} MiB, cpus ${b.cpus}/${limits.maxCpus}, pids ${b.pids}/${limits.maxPids}, ` +
      `shm ${b.shmMb}/${limits.maxShmMb} MiB, tmp ${b.tmpMb}/${limits.maxTmpMb} MiB (asked/allowed)`;
    return [r.ok('LIMITS_OK', 'sandbox sizes within the limits', detail, { file: MANIFEST_FILE })];
  },
};

function lineOf(line: number | undefined): { line?: number } {
  return line ? { line } : {};
}
