import { SandboxError } from '../errors/index.ts';

export interface QuotaLimits {
  plugins: number;
  memoryMb: number;
  cpus: number;
}

/** What one plugin takes from its tenant's quota. */
export interface QuotaClaim {
  memoryMb: number;
  cpus: number;
}

/**
 * Refuses to start a plugin needing `wanted` when `holding` (the tenant's plugins already running
 * or starting) plus it would exceed `quota`; the message names the quota, the use and the need.
 */
export function checkTenantQuota(
  tenant: string,
  pluginId: string,
  quota: QuotaLimits,
  holding: readonly QuotaClaim[],
  wanted: QuotaClaim,
): void {
  const use = {
    plugins: holding.length,
    memoryMb: holding.reduce((sum, c) => sum + c.memoryMb, 0),
    cpus: holding.reduce((sum, c) => sum + c.cpus, 0),
  };
  const need = { plugins: 1, ...wanted };
  for (const key of ['plugins', 'memoryMb', 'cpus'] as const) {
    if (use[key] + need[key] > quota[key]) {
      throw new SandboxError(
        'RATE_LIMIT_EXCEEDED',
        `QUOTA_EXCEEDED: tenant '${tenant}' quota ${key} is ${quota[key]}; in use ${use[key]}, ${pluginId} needs ${need[key]} more`,
      );
    }
  }
}
