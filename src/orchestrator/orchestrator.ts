import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import { SessionTokens, UpstreamHost } from '../gateway/index.ts';
import { HostServer } from '../host/index.ts';
import type { Logger } from '../logging/index.ts';
import { connectRedis } from '../redis/index.ts';
import { DockerSandboxRuntime, reapPluginDirectories } from '../sandbox/index.ts';
import { loadTenantTrust, type TenantTrust } from '../trust/index.ts';
import { PluginInstance, type PluginStatus } from './plugin-instance.ts';

const HOST_SOCKET = 'host.sock';

/**
 * The orchestrator: at start it removes what an earlier run left behind, starts the built-in host
 * (unless an upstream is configured), and starts every configured plugin of every tenant, each in
 * its own sandbox behind its own gateway. `stop` disables them all and removes everything.
 */
export class Orchestrator {
  private readonly config: SandboxConfig;
  private readonly log: Logger;
  private readonly runtime: DockerSandboxRuntime;
  private readonly instances: PluginInstance[] = [];
  private host: HostServer | undefined;
  private upstream: UpstreamHost | undefined;
  private closeRedis: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private crlTimer: NodeJS.Timeout | undefined;

  constructor(config: SandboxConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.runtime = new DockerSandboxRuntime(log, config.dockerSocket);
  }

  /** Starts everything. A plugin that fails to start is reported (ERROR) and does not stop the rest. */
  async start(redisUrl: string): Promise<void> {
    // Trust material first: an unreadable root is a configuration error, before anything starts.
    const trusts = new Map(this.config.tenants.map((tenant) => [tenant.id, loadTenantTrust(tenant)]));
    await this.runtime.ping();
    const nodeImage = await this.runtime.resolveImage(this.config.images.node);
    await this.reapLeftovers();

    const upstreamAddress = await this.startUpstream(redisUrl);
    this.upstream = new UpstreamHost(upstreamAddress);
    const ctx = {
      config: this.config,
      runtime: this.runtime,
      upstream: this.upstream,
      tokens: new SessionTokens(this.config.sessionSecret, this.config.sessionTokenTtlS * 1000),
      images: { node: nodeImage },
      log: this.log,
    };
    for (const tenant of this.config.tenants) {
      const trust = trusts.get(tenant.id) as TenantTrust;
      for (const dir of tenant.plugins) this.instances.push(new PluginInstance(ctx, tenant, trust, dir));
    }
    this.crlTimer = setInterval(() => void this.reloadCrls(trusts), this.config.crlReloadIntervalMs);
    this.crlTimer.unref();
    const results = await Promise.allSettled(this.instances.map((instance) => instance.start()));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const instance = this.instances[i];
        this.log.error(
          { tenant: instance?.tenant.id, pluginDir: instance?.directory, reason: (result.reason as Error).message },
          'plugin refused',
        );
      }
    });
    const enabled = this.list().filter((p) => p.state === 'ENABLED').length;
    this.log.info({ enabled, total: this.instances.length }, 'orchestrator started');
  }

  /** Reads CRL files again; where they changed, re-checks that tenant's running plugins. */
  private async reloadCrls(trusts: Map<string, TenantTrust>): Promise<void> {
    for (const [tenant, trust] of trusts) {
      let changed: boolean;
      try {
        changed = trust.crls.reload();
      } catch (err) {
        this.log.warn({ err, tenant }, 'CRL reload failed; keeping the previous CRLs');
        continue;
      }
      if (!changed) continue;
      this.log.info({ tenant }, 'CRLs changed; re-checking running plugins');
      const running = this.instances.filter((i) => i.tenant.id === tenant);
      await Promise.allSettled(running.map((instance) => instance.recheckRevocation()));
    }
  }

  list(): PluginStatus[] {
    return this.instances.map((instance) => instance.status());
  }

  find(tenant: string, pluginId: string): PluginInstance {
    const instance = this.instances.find((i) => i.tenant.id === tenant && i.pluginId === pluginId);
    if (!instance) throw new SandboxError('NOT_FOUND', `no plugin '${pluginId}' in tenant '${tenant}'`);
    return instance;
  }

  /** Disables every plugin (onDisable runs), removes containers, sockets and shm; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.crlTimer);
    this.log.info('stopping every plugin');
    await Promise.allSettled(this.instances.map((instance) => instance.stop('orchestrator shutting down')));
    this.upstream?.close();
    await this.host?.close();
    this.closeRedis?.();
    this.log.info('orchestrator stopped');
  }

  private async reapLeftovers(): Promise<void> {
    const leftovers = await this.runtime.listManaged(this.config.orchestratorId);
    for (const container of leftovers) {
      this.log.warn({ containerId: container.id, name: container.name }, 'removing a container left by an earlier run');
      await this.runtime.remove(container.id);
    }
    const roots = {
      runtimeDir: this.config.runtimeDir,
      shmRoot: this.config.shmDir,
      orchestratorId: this.config.orchestratorId,
      uid: this.config.sandboxUid,
      gid: this.config.sandboxGid,
    };
    const dirs = await reapPluginDirectories(roots, this.log);
    for (const kind of ['bundles', 'unpacked']) {
      await rm(path.join(this.config.stateDir, this.config.orchestratorId, kind), { recursive: true, force: true });
    }
    if (leftovers.length + dirs > 0)
      this.log.info({ containers: leftovers.length, directories: dirs }, 'leftovers removed');
  }

  /** Starts the built-in host when `upstream.address` is `builtin`; returns the address to call. */
  private async startUpstream(redisUrl: string): Promise<string> {
    if (this.config.upstream.address !== 'builtin') return this.config.upstream.address;
    const redis = connectRedis(redisUrl, this.log);
    await redis.connect();
    this.closeRedis = () => redis.disconnect();
    this.host = new HostServer(redis, this.log);
    const socketDir = path.join(this.config.runtimeDir, this.config.orchestratorId);
    await mkdir(socketDir, { recursive: true, mode: 0o711 });
    const address = `unix://${path.join(socketDir, HOST_SOCKET)}`;
    await this.host.listen(address);
    return address;
  }
}
