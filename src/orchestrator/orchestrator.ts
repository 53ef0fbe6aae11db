import type { Redis } from 'ioredis';
import type { SandboxConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import { createAuditLog, SessionTokens } from '../gateway/index.ts';
import { LifecycleQueue, PluginLock, PluginStateStore, type LifecycleJobData } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { SandboxMetrics } from '../metrics/index.ts';
import { connectRedis } from '../redis/index.ts';
import { DockerSandboxRuntime, EngineEvents, removeEmptyShmBase } from '../sandbox/index.ts';
import { loadTenantTrust, type TenantTrust } from '../trust/index.ts';
import { reloadCrls, reportMalformedCrls } from './crl-watch.ts';
import { EngineRecovery } from './engine-recovery.ts';
import { HostConnections } from './host-connections.ts';
import { directoryRoots, type InstanceContext } from './instance-context.ts';
import { JobDispatcher } from './job-dispatcher.ts';
import { reapLeftovers, removeLeftovers } from './leftovers.ts';
import type { ManagedPluginDeps } from './managed-plugin-deps.ts';
import type { ManagedPlugin } from './managed-plugin.ts';
import { Ownership } from './ownership.ts';
import { PluginRegistry } from './plugin-registry.ts';
import type { PluginStatus } from './plugin-status.ts';
import { TeardownSteps } from './teardown-steps.ts';
import { resolveImages, type RuntimeImages } from './runtime-images.ts';

/** What the orchestrator works with once connected to Redis. */
interface Connected {
  redis: Redis;
  queue: LifecycleQueue;
  lock: PluginLock;
  ownership: Ownership;
  audit: ReturnType<typeof createAuditLog>;
}

/**
 * The orchestrator: at start it removes what an earlier run left behind, starts the built-in host
 * (unless an upstream is configured), joins the lifecycle queue as a worker, and submits an enable
 * job for every configured plugin. Lifecycle work (enable, disable, reload, restart, uninstall)
 * runs as durable jobs (job-dispatcher.ts), one at a time per plugin across every process on the
 * Redis, on the process that owns the plugin (ownership.ts).
 */
export class Orchestrator {
  private readonly config: SandboxConfig;
  private readonly log: Logger;
  private readonly runtime: DockerSandboxRuntime;
  private readonly engineEvents: EngineEvents;
  private readonly registry: PluginRegistry;
  private readonly hosts: HostConnections;
  /** Undoes the connections (Redis, hosts, heartbeat, audit log) at stop, or after a failed start. */
  private readonly connections = new TeardownSteps();
  private connected: Connected | undefined;
  private startup: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopRequested = new AbortController();
  private crlTimer: NodeJS.Timeout | undefined;
  /** Prometheus metrics, served by the admin API at /metrics. */
  readonly metrics = new SandboxMetrics();

  constructor(config: SandboxConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.runtime = new DockerSandboxRuntime(log, config.dockerSocket);
    this.engineEvents = new EngineEvents(log, this.runtime, config.dockerSocket, config.orchestratorId);
    this.registry = new PluginRegistry(config, log);
    this.hosts = new HostConnections(config, log);
  }

  /**
   * Starts everything and waits until the initial enable jobs settled. A plugin that fails to
   * start is reported (ERROR, with its reason) and does not stop the rest.
   */
  start(redisUrl: string): Promise<void> {
    this.startup ??= this.startUp(redisUrl);
    return this.startup;
  }

  /** Submits a lifecycle job; returns its id. */
  async submit(data: LifecycleJobData): Promise<string> {
    this.find(data.tenant, data.pluginId);
    return this.requireConnected().queue.submit(data);
  }

  jobs(limit = 50) {
    return this.requireConnected().queue.list(limit);
  }

  job(id: string) {
    return this.requireConnected().queue.get(id);
  }

  waitForJob(id: string, timeoutMs: number) {
    return this.requireConnected().queue.waitFor(id, timeoutMs);
  }

  queueCounts() {
    return this.requireConnected().queue.counts();
  }

  list(): PluginStatus[] {
    return this.registry.list();
  }

  find(tenant: string, pluginId: string): ManagedPlugin {
    return this.registry.find(tenant, pluginId);
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
      // A failed start-up was reported to start()'s caller; what it made is removed below all the same.
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

  private async startUp(redisUrl: string): Promise<void> {
    // Trust material first: an unreadable root is a configuration error, before anything starts.
    const trusts = new Map(this.config.tenants.map((tenant) => [tenant.id, loadTenantTrust(tenant)]));
    for (const [tenant, trust] of trusts) reportMalformedCrls(this.log, tenant, trust);
    await this.runtime.ping();
    const images = await resolveImages(this.runtime, this.config.images, this.log);
    await reapLeftovers(this.runtime, this.config, this.log);
    const connected = await this.connect(redisUrl);
    this.metrics.watch(
      () => this.list(),
      () => this.queueCounts(),
    );
    const deps = this.pluginDeps(connected, images);
    for (const tenant of this.config.tenants) {
      await this.registry.discover(deps, tenant, trusts.get(tenant.id) as TenantTrust);
    }
    const dispatcher = new JobDispatcher({ ...connected, find: (tenant, id) => this.find(tenant, id) });
    await connected.queue.startWorker((data, progress) => dispatcher.process(data, progress));
    const recovery = new EngineRecovery(
      this.runtime,
      () => this.registry.all(),
      (d) => this.submit(d),
      this.log,
    );
    await this.engineEvents.start({
      onLost: (reason) => recovery.onLost(reason),
      onBack: () => recovery.onBack(),
    });
    this.crlTimer = setInterval(
      () => void reloadCrls(trusts, this.registry.all(), connected.lock, this.log),
      this.config.crlReloadIntervalMs,
    );
    this.crlTimer.unref();
    if (this.stopRequested.signal.aborted) return;
    await this.enableAll(connected.queue);
  }

  /** Connects to Redis, opens the hosts, starts the heartbeat, the lock and the queue. */
  private async connect(redisUrl: string): Promise<Connected> {
    const redis = connectRedis(redisUrl, this.log);
    this.connections.defer(() => redis.disconnect());
    await redis.connect();
    const queueRedis = connectRedis(redisUrl, this.log, { forQueue: true });
    this.connections.defer(() => queueRedis.disconnect());
    await queueRedis.connect();
    this.connections.defer(() => this.hosts.close());
    await this.hosts.open(redis);
    const ownership = new Ownership(redis, this.runtime, this.config.orchestratorId, this.log);
    this.connections.defer(() => ownership.stop());
    await ownership.start();
    const lock = new PluginLock(redis, this.config.lifecycle.pluginLockMs, this.log);
    const { lifecycle } = this.config;
    const queue = new LifecycleQueue(queueRedis, { name: lifecycle.queueName, ...lifecycle }, this.log);
    const audit = createAuditLog(this.config.auditLog);
    this.connections.defer(() => audit.close());
    this.connected = { redis, queue, lock, ownership, audit };
    return this.connected;
  }

  private pluginDeps(connected: Connected, images: RuntimeImages): ManagedPluginDeps {
    const ctx: InstanceContext = {
      config: this.config,
      runtime: this.runtime,
      upstreamFor: (tenant) => this.hosts.upstreamFor(tenant),
      tokens: new SessionTokens(this.config.sessionSecret, this.config.sessionTokenTtlS * 1000),
      images,
      metrics: this.metrics,
      audit: connected.audit.record,
      log: this.log,
    };
    return {
      ctx,
      store: new PluginStateStore(connected.redis),
      owner: this.config.orchestratorId,
      supervision: this.config.supervision,
      isAlive: (id) => connected.ownership.isAlive(id),
      engineAnswers: () => this.engineEvents.confirm(),
      checkQuota: (plugin) => this.registry.checkQuota(plugin),
      scheduleRestart: async (plugin, delayMs, cause) => {
        await connected.queue.submit(
          { action: 'restart', tenant: plugin.tenant.id, pluginId: plugin.pluginId, cause, supervised: true },
          { delayMs },
        );
      },
    };
  }

  /** Submits an enable job for every plugin found and waits for them (or for a stop). */
  private async enableAll(queue: LifecycleQueue): Promise<void> {
    const jobs = await Promise.all(
      this.registry
        .all()
        .map((p) => this.submit({ action: 'enable', tenant: p.tenant.id, pluginId: p.pluginId, cause: 'start-up' })),
    );
    const waitMs = this.config.startTimeoutMs * (this.config.lifecycle.attempts + 1);
    // A stop during start-up does not wait for every enable job: the shutdown takes over.
    await Promise.race([
      Promise.allSettled(jobs.map((id) => queue.waitFor(id, waitMs))),
      whenAborted(this.stopRequested.signal),
    ]);
    const enabled = this.list().filter((p) => p.state === 'ENABLED').length;
    this.log.info({ enabled, total: this.registry.total }, 'orchestrator started');
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.crlTimer);
    this.engineEvents.stop();
    this.log.info('stopping: no new jobs, then every plugin in order');
    await this.connected?.queue.close();
    await this.disableAll();
    await removeEmptyShmBase(directoryRoots(this.config)).catch((err: unknown) =>
      this.log.warn({ err }, 'could not remove the shm base directory'),
    );
    await this.connections.run();
    this.log.info('orchestrator stopped');
  }

  /** Disables every plugin running here, last started first, under its lock where it can be had. */
  private async disableAll(): Promise<void> {
    const lock = this.connected?.lock;
    for (const plugin of this.registry
      .all()
      .reverse()
      .filter((p) => p.runsHere)) {
      const { pluginId } = plugin;
      const run = () => plugin.disable(async () => undefined, 'orchestrator shutting down');
      const locked = await lock?.withLock(plugin.tenant.id, pluginId, run).catch((err: unknown) => {
        this.log.warn({ err, pluginId }, 'could not disable under the plugin lock; disabling without it');
        return { ran: false as const };
      });
      if (!locked?.ran) await run().catch((err: unknown) => this.log.error({ err, pluginId }, 'disable failed'));
    }
  }

  private requireConnected(): Connected {
    if (!this.connected) throw new SandboxError('INTERNAL_ERROR', 'the orchestrator is not started');
    return this.connected;
  }
}

/** Settles when `signal` aborts (at once if it already has). */
function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
