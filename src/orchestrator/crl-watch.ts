import type { PluginLock } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { TenantTrust } from '../trust/index.ts';
import type { ManagedPlugin } from './managed-plugin.ts';

/** A malformed CRL file refuses the tenant's signed plugins (CRL_MALFORMED) until it is replaced. */
export function reportMalformedCrls(log: Logger, tenant: string, trust: TenantTrust): void {
  for (const { file, error } of trust.crls.malformed) {
    log.error({ tenant, file, reason: error.reason, detail: error.detail }, 'CRL file malformed');
  }
}

/** Reads CRL files again; where they changed, re-checks that tenant's running plugins. */
export async function reloadCrls(
  trusts: Map<string, TenantTrust>,
  plugins: ManagedPlugin[],
  lock: PluginLock,
  log: Logger,
): Promise<void> {
  for (const [tenant, trust] of trusts) {
    let changed: boolean;
    try {
      changed = trust.crls.reload();
    } catch (err) {
      log.warn({ err, tenant }, 'CRL reload failed; keeping the previous CRLs');
      continue;
    }
    if (!changed) continue;
    log.info({ tenant }, 'CRLs changed; re-checking running plugins');
    reportMalformedCrls(log, tenant, trust);
    const running = plugins.filter((p) => p.tenant.id === tenant);
    const results = await Promise.allSettled(
      running.map((p) => lock.withLock(p.tenant.id, p.pluginId, () => p.checkRevocation())),
    );
    results.forEach((result, i) => {
      const pluginId = running[i]?.pluginId;
      if (result.status === 'rejected') {
        log.error(
          { err: result.reason as unknown, tenant, pluginId },
          'CRL re-check failed; tried again at the next CRL change',
        );
      } else if (!result.value.ran) {
        log.warn({ tenant, pluginId }, 'a job holds the plugin; its CRL re-check waits for the next CRL change');
      }
    });
  }
}
