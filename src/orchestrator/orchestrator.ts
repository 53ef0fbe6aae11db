import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import {
  createAuditLog,
  LocalUpstream,
  SessionTokens,
  UpstreamHost,
  type Upstream,
  type UpstreamTls,
} from '../gateway/index.ts';
import { HostServer } from '../host/index.ts';
import {
  LifecycleQueue,
  PermanentJobFailure,
  PluginBusy,
  PluginLock,
  PluginStateStore,
  type LifecycleJobData,
} from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { SandboxMetrics } from '../metrics/index.ts';
import { connectRedis, redisKeys } from '../redis/index.ts';
import { DockerSandboxRuntime, EngineEvents, LABELS, removeEmptyShmBase } from '../sandbox/index.ts';
import { loadTenantTrust, type TenantTrust } from '../trust/index.ts';
import { ManagedPlugin, type PluginStatus } from './managed-plugin.ts';
import { removeLeftovers } from './leftovers.ts';
import { checkTenantQuota } from './tenant-quota.ts';
import { resolveImages } from './runtime-images.ts';
import { directoryRoots, discoverPlugin, PluginStartFailure, type InstanceContext } from './plugin-instance.ts';

const HOST_SOCKET = 'host.sock';
const HEARTBEAT_MS = 2_000;
const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_MS;

/** A job's answer when another live process runs the plugin. */
const BOUNCE = Symbol('bounce');

/** A configured plugin whose plugin.yaml could not be read: listed, never started. */
interface RefusedEntry {
  tenant: string;
  directory: string;
  error: string;
}

/**
 * The orchestrator: at start it removes what an earlier run left behind, starts the built-in host
 * (unless an upstream is configured), joins the lifecycle queue as a worker, and submits an enable
 * job for every configured plugin. Lifecycle work (enable, disable, reload, restart, uninstall)
 * runs as durable jobs, one at a time per plugin across every process on the Redis.
 */
export class Orchestrator {
  private readonly config: SandboxConfig;
  private readonly log: Logger;
  private readonly runtime: DockerSandboxRuntime;
  private readonly engineEvents: EngineEvents;
  /** Containers of plugins lost with the engine: removed once it answers again. */
  private readonly lostContainers = new Set<string>();
  private readonly plugins = new Map<string, ManagedPlugin>();
  private readonly refused: RefusedEntry[] = [];
  private host: HostServer | undefined;
  /** Every host reached over gRPC, the default's and the tenants' own: closed at stop. */
  private readonly remoteHosts: UpstreamHost[] = [];
  private redis: Redis | undefined;
  private queueRedis: Redis | undefined;
  private queue: LifecycleQueue | undefined;
  private lock: PluginLock | undefined;
  private startup: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopRequested = new AbortController();
  private crlTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Prometheus metrics, served by the admin API at /metrics. */
  readonly metrics = new SandboxMetrics();
  private audit: ReturnType<typeof createAuditLog> | undefined;

  constructor(config: SandboxConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.runtime = new DockerSandboxRuntime(log, config.dockerSocket);
    this.engineEvents = new EngineEvents(log, this.runtime, config.dockerSocket, config.orchestratorId);
  }

  /**
   * Starts everything and waits until the initial enable jobs settled. A plugin that fails to
   * start is reported (ERROR, with its reason) and does not stop the rest.
   */
  start(redisUrl: string): Promise<void> {
    this.startup ??= this.startUp(redisUrl);
    return this.startup;
  }

  private async startUp(redisUrl: string): Promise<void> {
    // Trust material first: an unreadable root is a configuration error, before anything starts.
    const trusts = new Map(this.config.tenants.map((tenant) => [tenant.id, loadTenantTrust(tenant)]));
    for (const [tenant, trust] of trusts) this.reportMalformedCrls(tenant, trust);
    await this.runtime.ping();
    const images = await resolveImages(this.runtime, this.config.images, this.log);
    await this.reapLeftovers();

    this.redis = connectRedis(redisUrl, this.log);
    await this.redis.connect();
    this.queueRedis = connectRedis(redisUrl, this.log, { forQueue: true });
    await this.queueRedis.connect();
    const upstream = await this.startUpstream(this.redis);
    // A tenant with its own host gets its own channel to it.
    const upstreams = new Map<string, Upstream>();
    for (const tenant of this.config.tenants) {
      if (tenant.upstream) upstreams.set(tenant.id, this.remoteHost(tenant.upstream.address, tenant.upstream.tls));
    }
    const store = new PluginStateStore(this.redis);
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.lock = new PluginLock(this.redis, this.config.lifecycle.pluginLockMs);
    this.queue = new LifecycleQueue(
      this.queueRedis,
      { name: this.config.lifecycle.queueName, ...this.config.lifecycle },
      this.log,
    );

    this.audit = createAuditLog(this.config.auditLog);
    this.metrics.watch(
      () => this.list(),
      () => this.queueCounts(),
    );
    const ctx: InstanceContext = {
      config: this.config,
      runtime: this.runtime,
      upstreamFor: (tenant: TenantConfig) => upstreams.get(tenant.id) ?? upstream,
      tokens: new SessionTokens(this.config.sessionSecret, this.config.sessionTokenTtlS * 1000),
      images,
      metrics: this.metrics,
      audit: this.audit.record,
      log: this.log,
    };
    const deps = {
      ctx,
      store,
      owner: this.config.orchestratorId,
      supervision: this.config.supervision,
      isAlive: (id: string) => this.isAlive(id),
      engineAnswers: () => this.engineEvents.confirm(),
      checkQuota: (plugin: ManagedPlugin) => this.checkQuota(plugin),
      scheduleRestart: async (plugin: ManagedPlugin, delayMs: number, cause: string) => {
        await this.queue?.submit(
          { action: 'restart', tenant: plugin.tenant.id, pluginId: plugin.pluginId, cause },
          { delayMs },
        );
      },
    };
    for (const tenant of this.config.tenants) {
      await this.discover(deps, tenant, trusts.get(tenant.id) as TenantTrust);
    }
    await this.queue.startWorker((data, progress) => this.process(data, progress));
    await this.engineEvents.start({
      onLost: (reason) => this.onEngineLost(reason),
      onBack: () => this.onEngineBack(),
    });
    this.crlTimer = setInterval(() => void this.reloadCrls(trusts), this.config.crlReloadIntervalMs);
    this.crlTimer.unref();

    if (this.stopRequested.signal.aborted) return;
    const jobs = await Promise.all(
      [...this.plugins.values()].map((p) =>
        this.submit({ action: 'enable', tenant: p.tenant.id, pluginId: p.pluginId, cause: 'start-up' }),
      ),
    );
    const waitMs = this.config.startTimeoutMs * (this.config.lifecycle.attempts + 1);
    // A stop during start-up does not wait for every enable job: the shutdown takes over.
    await Promise.race([
      Promise.allSettled(jobs.map((id) => this.queue?.waitFor(id, waitMs))),
      whenAborted(this.stopRequested.signal),
    ]);
    const enabled = this.list().filter((p) => p.state === 'ENABLED').length;
    this.log.info({ enabled, total: this.plugins.size + this.refused.length }, 'orchestrator started');
  }

  /** Submits a lifecycle job; returns its id. */
  async submit(data: LifecycleJobData): Promise<string> {
    this.find(data.tenant, data.pluginId);
    return this.requireQueue().submit(data);
  }

  jobs(limit = 50) {
    return this.requireQueue().list(limit);
  }

  job(id: string) {
    return this.requireQueue().get(id);
  }

  waitForJob(id: string, timeoutMs: number) {
    return this.requireQueue().waitFor(id, timeoutMs);
  }

  queueCounts() {
    return this.requireQueue().counts();
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
    }));
    return [...[...this.plugins.values()].map((p) => p.status()), ...refused];
  }

  find(tenant: string, pluginId: string): ManagedPlugin {
    const plugin = this.plugins.get(`${tenant}/${pluginId}`);
    if (!plugin) throw new SandboxError('NOT_FOUND', `no plugin '${pluginId}' in tenant '${tenant}'`);
    return plugin;
  }

  /**
   * Stops taking jobs (the one in progress finishes), disables every plugin in order (its
   * onDisable runs), removes containers, sockets and shm, closes the queue; idempotent. During
   * start-up it cuts the wait for the initial enable jobs short, then does the same. Redis must
   * still answer until it settles (the caller stops an embedded one afterwards).
   */
  stop(): Promise<void> {
    this.stopRequested.abort();
    this.stopping ??= (async () => {
      await this.startup?.catch(() => undefined);
      await this.shutdown();
    })();
    return this.stopping;
  }

  /**
   * The last resort when `stop()` did not finish in time: removes every container this
   * orchestrator made (by label, without onDisable) and every socket and shm directory, so that
   * nothing is left running or mounted when the process exits.
   */
  async removeEverything(): Promise<void> {
    const removed = await removeLeftovers(this.runtime, this.config, this.log);
    this.log.warn(removed, 'removed without disabling');
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.crlTimer);
    this.engineEvents.stop();
    this.log.info('stopping: no new jobs, then every plugin in order');
    await this.queue?.close();
    for (const plugin of [...this.plugins.values()].reverse().filter((p) => p.runsHere)) {
      const run = () => plugin.disable(async () => undefined, 'orchestrator shutting down');
      const locked = await this.lock
        ?.withLock(plugin.tenant.id, plugin.pluginId, run)
        .catch(() => ({ ran: false as const }));
      if (!locked?.ran)
        await run().catch((err: unknown) => this.log.error({ err, pluginId: plugin.pluginId }, 'disable failed'));
    }
    await removeEmptyShmBase(directoryRoots(this.config)).catch((err: unknown) =>
      this.log.warn({ err }, 'could not remove the shm base directory'),
    );
    clearInterval(this.heartbeat);
    this.audit?.close();
    await this.redis?.del(redisKeys.orchestratorAlive(this.config.orchestratorId)).catch(() => undefined);
    for (const host of this.remoteHosts) host.close();
    await this.host?.close();
    this.redis?.disconnect();
    this.queueRedis?.disconnect();
    this.log.info('orchestrator stopped');
  }

  private async process(
    data: LifecycleJobData,
    progress: (step: string, percent: number) => Promise<void>,
  ): Promise<unknown> {
    let plugin: ManagedPlugin;
    try {
      plugin = this.find(data.tenant, data.pluginId);
    } catch (err) {
      throw new PermanentJobFailure((err as Error).message);
    }
    const result = await this.requireLock().withLock(data.tenant, data.pluginId, async () => {
      // One process runs a plugin: a job for a plugin another live process runs goes back to the
      // queue until that process takes it; a dead owner's plugin is taken over here.
      const { owner, state } = await plugin.refresh();
      const me = this.config.orchestratorId;
      if (owner && owner !== me && state !== 'DISABLED') {
        if (await this.isAlive(owner)) return BOUNCE;
        await this.takeOver(owner, data.tenant, data.pluginId);
      }
      try {
        switch (data.action) {
          case 'enable':
            return await plugin.enable(progress, `enable (${data.cause})`);
          case 'disable':
          case 'shutdown':
            return await plugin.disable(progress, `${data.action} (${data.cause})`);
          case 'uninstall':
            await plugin.disable(progress, `uninstall (${data.cause})`);
            await this.redis?.del(redisKeys.pluginData(data.tenant, data.pluginId));
            return undefined;
          case 'reload':
            return await plugin.reload(progress, data.bundle);
          case 'restart':
            return await plugin.restart(progress, data.cause);
        }
      } catch (err) {
        throw isPermanent(err) ? new PermanentJobFailure((err as Error).message) : err;
      }
    });
    if (!result.ran) throw new PluginBusy(`${data.pluginId} is busy with another job`);
    if (result.value === BOUNCE) throw new PluginBusy(`${data.pluginId} runs under another orchestrator`);
    return result.value;
  }

  private async discover(
    deps: ConstructorParameters<typeof ManagedPlugin>[0],
    tenant: TenantConfig,
    trust: TenantTrust,
  ): Promise<void> {
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

  /** Every plugin running here went away with the engine: recorded as ENGINE_LOST, not as crashes. */
  private async onEngineLost(reason: string): Promise<void> {
    const running = [...this.plugins.values()].filter((p) => p.runsHere);
    for (const plugin of running) {
      const { containerId } = plugin.status();
      if (containerId) this.lostContainers.add(containerId);
    }
    const outcomes = await Promise.allSettled(running.map((p) => p.engineLost(reason)));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected')
        this.log.error(
          { err: outcome.reason, pluginId: running[i]?.pluginId },
          'could not record a plugin lost with the engine',
        );
    });
  }

  /** The engine is back: remove what was lost with it (it kept the stopped containers), then enable again. */
  private async onEngineBack(): Promise<void> {
    for (const containerId of this.lostContainers) {
      await this.runtime
        .remove(containerId)
        .then(() => this.lostContainers.delete(containerId))
        .catch((err: unknown) =>
          this.log.warn({ err, containerId }, 'could not remove a container lost with the engine'),
        );
    }
    const lost = [...this.plugins.values()].filter((p) => !p.runsHere && p.status().reason === 'ENGINE_LOST');
    for (const p of lost) {
      await this.submit({
        action: 'enable',
        tenant: p.tenant.id,
        pluginId: p.pluginId,
        cause: 'the Docker engine is back',
      }).catch((err: unknown) =>
        this.log.error({ err, pluginId: p.pluginId }, 'could not submit the enable after the engine came back'),
      );
    }
  }

  /** Refuses to start `plugin` when its tenant's quota would be exceeded, naming quota and use. */
  private checkQuota(plugin: ManagedPlugin): void {
    const holding = [...this.plugins.values()]
      .filter((p) => p !== plugin && p.tenant.id === plugin.tenant.id && p.holdsQuota)
      .map((p) => p.sandbox);
    checkTenantQuota(plugin.tenant.id, plugin.pluginId, plugin.tenant.quota, holding, plugin.sandbox);
  }

  private async beat(): Promise<void> {
    await this.redis?.set(
      redisKeys.orchestratorAlive(this.config.orchestratorId),
      String(process.pid),
      'PX',
      HEARTBEAT_TTL_MS,
    );
  }

  private async isAlive(id: string): Promise<boolean> {
    if (id === this.config.orchestratorId) return true;
    return (await this.requireRedis().exists(redisKeys.orchestratorAlive(id))) === 1;
  }

  /** Removes what a dead orchestrator left of one plugin (same Docker engine), before running it here. */
  private async takeOver(deadOwner: string, tenant: string, pluginId: string): Promise<void> {
    const leftovers = (await this.runtime.listManaged(deadOwner)).filter(
      (c) => c.labels[LABELS.tenant] === tenant && c.labels[LABELS.pluginId] === pluginId,
    );
    this.log.warn(
      { deadOwner, tenant, pluginId, containers: leftovers.length },
      'taking over a plugin of a dead orchestrator',
    );
    for (const container of leftovers) await this.runtime.remove(container.id);
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
      this.reportMalformedCrls(tenant, trust);
      const running = [...this.plugins.values()].filter((p) => p.tenant.id === tenant);
      await Promise.allSettled(
        running.map((p) => this.requireLock().withLock(p.tenant.id, p.pluginId, () => p.checkRevocation())),
      );
    }
  }

  /** A malformed CRL file refuses the tenant's signed plugins (CRL_MALFORMED) until it is replaced. */
  private reportMalformedCrls(tenant: string, trust: TenantTrust): void {
    for (const { file, error } of trust.crls.malformed) {
      this.log.error({ tenant, file, reason: error.reason, detail: error.detail }, 'CRL file malformed');
    }
  }

  private async reapLeftovers(): Promise<void> {
    const { containers, directories } = await removeLeftovers(this.runtime, this.config, this.log);
    for (const kind of ['bundles', 'unpacked', 'discover']) {
      await rm(path.join(this.config.stateDir, this.config.orchestratorId, kind), { recursive: true, force: true });
    }
    if (containers + directories > 0) this.log.info({ containers, directories }, 'leftovers removed');
  }

  /**
   * The host gateways call by default: the one at `upstream.address`, or when that is `builtin`,
   * the built-in host, started here. Gateways reach it in this process; it also serves on a socket,
   * for other orchestrator processes and tools.
   */
  private async startUpstream(redis: Redis): Promise<Upstream> {
    if (this.config.upstream.address !== 'builtin') return this.remoteHost(this.config.upstream.address);
    this.host = new HostServer(redis, this.log);
    const socketDir = path.join(this.config.runtimeDir, this.config.orchestratorId);
    await mkdir(socketDir, { recursive: true, mode: 0o711 });
    await this.host.listen(`unix://${path.join(socketDir, HOST_SOCKET)}`);
    return new LocalUpstream(this.host);
  }

  private remoteHost(address: string, tls?: UpstreamTls): UpstreamHost {
    const host = new UpstreamHost(address, tls);
    this.remoteHosts.push(host);
    return host;
  }

  private requireQueue(): LifecycleQueue {
    if (!this.queue) throw new SandboxError('INTERNAL_ERROR', 'the orchestrator is not started');
    return this.queue;
  }

  private requireRedis(): Redis {
    if (!this.redis) throw new SandboxError('INTERNAL_ERROR', 'the orchestrator is not started');
    return this.redis;
  }

  private requireLock(): PluginLock {
    if (!this.lock) throw new SandboxError('INTERNAL_ERROR', 'the orchestrator is not started');
    return this.lock;
  }
}

/** A failure that retrying the same job cannot fix: bad bundle, refused trust, a plugin that dies at start. */
function isPermanent(err: unknown): boolean {
  if (err instanceof PluginStartFailure) return true;
  return err instanceof SandboxError && err.code !== 'INTERNAL_ERROR';
}

/** Settles when `signal` aborts (at once if it already has). */
function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
