import path from 'node:path';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { TenantTrust } from '../trust/index.ts';
import type { ManagedPluginDeps, PluginIdentity } from './managed-plugin-deps.ts';
import { ManagedPlugin } from './managed-plugin.ts';
import { discoverPlugin } from './plugin-instance.ts';
import type { PluginStatus } from './plugin-status.ts';
import { checkTenantQuota } from './tenant-quota.ts';

/** A configured plugin whose plugin.yaml could not be read: listed, never started. */
interface RefusedEntry {
  tenant: string;
  directory: string;
  error: string;
}

/**
 * The configured plugins of every tenant: each one found (by its manifest's id) becomes a
 * ManagedPlugin; one that cannot be read, or is configured twice, is refused and listed as such.
 */
export class PluginRegistry {
  private readonly config: SandboxConfig;
  private readonly log: Logger;
  private readonly plugins = new Map<string, ManagedPlugin>();
  private readonly refused: RefusedEntry[] = [];

  constructor(config: SandboxConfig, log: Logger) {
    this.config = config;
    this.log = log;
  }

  /** Every plugin found, in configuration order. */
  all(): ManagedPlugin[] {
    return [...this.plugins.values()];
  }

  /** Plugins found plus plugins refused. */
  get total(): number {
    return this.plugins.size + this.refused.length;
  }

  find(tenant: string, pluginId: string): ManagedPlugin {
    const plugin = this.plugins.get(`${tenant}/${pluginId}`);
    if (!plugin) throw new SandboxError('NOT_FOUND', `no plugin '${pluginId}' in tenant '${tenant}'`);
    return plugin;
  }

  list(): PluginStatus[] {
    const refused = this.refused.map((r) => ({
      tenant: r.tenant,
      id: r.directory,
      version: null,
      directory: r.directory,
      instanceId: null,
      state: 'ERROR' as const,
      containerId: null,
      permissions: [],
      signer: null,
      signed: false,
      lastTransition: null,
      lastError: r.error,
      reason: 'INVALID_MANIFEST',
      restarts: 0,
      owner: null,
      sdkProtocolVersion: null,
    }));
    return [...this.all().map((p) => p.status()), ...refused];
  }

  /** Reads every plugin a tenant configures and adopts its state from Redis. */
  async discover(deps: ManagedPluginDeps, tenant: TenantConfig, trust: TenantTrust): Promise<void> {
    for (const source of tenant.plugins) {
      const scratch = path.join(this.config.stateDir, this.config.orchestratorId, 'discover', path.basename(source));
      try {
        const manifest = await discoverPlugin(source, this.config, scratch);
        const key = `${tenant.id}/${manifest.id}`;
        if (this.plugins.has(key)) {
          throw new SandboxError(
            'ALREADY_EXISTS',
            `${manifest.id} is configured twice for tenant '${tenant.id}' (${source})`,
          );
        }
        const plugin = new ManagedPlugin(deps, tenant, trust, source, manifest);
        await plugin.adopt();
        this.plugins.set(key, plugin);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.log.error({ tenant: tenant.id, pluginDir: source, reason: error }, 'plugin refused');
        this.refused.push({ tenant: tenant.id, directory: source, error });
      }
    }
  }

  /** Refuses to start `plugin` when its tenant's quota would be exceeded, naming quota and use. */
  checkQuota(plugin: PluginIdentity): void {
    const holding = this.all()
      .filter((p) => p !== plugin && p.tenant.id === plugin.tenant.id && p.holdsQuota)
      .map((p) => p.sandbox);
    checkTenantQuota(plugin.tenant.id, plugin.pluginId, plugin.tenant.quota, holding, plugin.sandbox);
  }
}
