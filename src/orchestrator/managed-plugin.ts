import type { TenantConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import type { PluginState, PluginStateStore, StateTransition } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import { TrustError, type TenantTrust } from '../trust/index.ts';
import { CallGate } from './call-gate.ts';
import { CrashPolicy } from './crash-policy.ts';
import { PluginInstance, type InstanceContext, type SharedMemoryRegion } from './plugin-instance.ts';

const DRAIN_TIMEOUT_MS = 10_000;

/** One plugin's public status (admin API, `status`). */
export interface PluginStatus {
  tenant: string;
  id: string;
  version: string | null;
  directory: string;
  instanceId: string | null;
  state: PluginState;
  containerId: string | null;
  permissions: readonly string[];
  /** Who signed the running bundle; null when unsigned (only where the tenant allows it) or not running. */
  signer: { subject: string; serial: string; fingerprint: string } | null;
  signed: boolean;
  lastTransition: StateTransition | null;
  lastError: string | null;
  /** Machine-readable reason of the last error: a trust reason, CRASHED, CRASH_LOOP, START_FAILED, ENGINE_LOST. */
  reason: string | null;
  restarts: number;
  /** The orchestrator process that runs it (or last ran it). */
  owner: string | null;
}

export interface SupervisionSettings {
  restartInitialMs: number;
  restartMaxMs: number;
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  unhealthyAfter: number;
}

/** Why a running instance is gone. */
interface Failure {
  what: string;
  reason: 'CRASHED' | 'UNRESPONSIVE';
  logTail: string[];
}

export type Progress = (step: string, percent: number) => Promise<void>;

export interface ManagedPluginDeps {
  ctx: InstanceContext;
  store: PluginStateStore;
  owner: string;
  supervision: SupervisionSettings;
  /** Throws when starting the plugin would exceed its tenant's quota. */
  checkQuota: (plugin: ManagedPlugin) => void;
  /** Whether orchestrator `id` is alive (its heartbeat is in Redis). */
  isAlive: (id: string) => Promise<boolean>;
  /** Whether the Docker engine answers; a container exit while it does not is the engine's loss, not a crash. */
  engineAnswers: () => Promise<boolean>;
  /** Submits a durable restart job after `delayMs`. */
  scheduleRestart: (plugin: ManagedPlugin, delayMs: number, cause: string) => Promise<void>;
}

/**
 * One plugin of one tenant over time: its state machine (kept in Redis, cached here), the
 * instance that runs it now, hot reload with its state and without lost calls, and supervision of
 * crashes with backoff. Every method is called by a lifecycle job holding the plugin's lock.
 */
export class ManagedPlugin {
  readonly tenant: TenantConfig;
  readonly trust: TenantTrust;
  readonly pluginId: string;
  private source: string;
  private manifest: PluginManifest;
  private readonly deps: ManagedPluginDeps;
  private readonly log: Logger;
  private readonly gate = new CallGate();
  private readonly regionConsumers = new Set<(region: SharedMemoryRegion) => Promise<void> | void>();
  private current: PluginInstance | undefined;
  private serving = false;
  /** Between passing the quota check and running (or failing): counted by the quota. */
  private starting = false;
  private readonly crashPolicy: CrashPolicy;
  private healthTimer: NodeJS.Timeout | undefined;
  private missedPings = 0;
  private restarts = 0;
  private cached: {
    state: PluginState;
    lastTransition: StateTransition | null;
    lastError: string | null;
    reason: string | null;
    version: string | null;
    owner: string | null;
  };

  constructor(
    deps: ManagedPluginDeps,
    tenant: TenantConfig,
    trust: TenantTrust,
    source: string,
    manifest: PluginManifest,
  ) {
    this.deps = deps;
    this.tenant = tenant;
    this.trust = trust;
    this.source = source;
    this.manifest = manifest;
    this.pluginId = manifest.id;
    this.log = deps.ctx.log.child({ tenant: tenant.id, pluginId: manifest.id });
    this.crashPolicy = new CrashPolicy(deps.supervision);
    this.cached = {
      state: 'DISCOVERED',
      lastTransition: null,
      lastError: null,
      reason: null,
      version: manifest.version,
      owner: null,
    };
  }

  status(): PluginStatus {
    const running = this.current;
    const signer = running?.verified?.signer;
    return {
      tenant: this.tenant.id,
      id: this.pluginId,
      version: this.cached.version,
      directory: this.source,
      instanceId: running?.instanceId ?? null,
      state: this.cached.state,
      containerId: running?.containerId ?? null,
      permissions: this.manifest.permissions,
      signer: signer ? { subject: signer.subject, serial: signer.serial, fingerprint: signer.fingerprint } : null,
      signed: Boolean(signer),
      lastTransition: this.cached.lastTransition,
      lastError: this.cached.lastError,
      reason: this.cached.reason,
      restarts: this.restarts,
      owner: this.cached.owner,
    };
  }

  /** The sandbox resources it asks for (the quota counts these). */
  get sandbox(): { memoryMb: number; cpus: number } {
    return this.manifest.sandbox;
  }

  /** Whether this process runs the plugin now. */
  get runsHere(): boolean {
    return this.current !== undefined;
  }

  /** Whether it counts against its tenant's quota: running here, or starting. */
  get holdsQuota(): boolean {
    return this.current !== undefined || this.starting;
  }

  /** Re-reads the state another process may have changed (before a job works on the plugin). */
  async refresh(): Promise<{ owner: string | null; state: PluginState }> {
    const stored = await this.deps.store.get(this.tenant.id, this.pluginId);
    if (!this.current) this.cached = { ...stored, version: stored.version ?? this.cached.version };
    return stored;
  }

  /**
   * Brings the cached state in line with Redis at start-up. A plugin Redis still shows as running
   * belonged to an orchestrator process that died without disabling it: its container was reaped
   * (its gateway and sessions died with that process, so it cannot be re-adopted), and it is
   * recorded as such before it is started again.
   */
  async adopt(): Promise<void> {
    const stored = await this.deps.store.get(this.tenant.id, this.pluginId);
    this.cached = { ...stored, version: stored.version ?? this.manifest.version };
    const running = ['LOADED', 'INITIALIZED', 'ENABLED', 'RELOADING'].includes(stored.state);
    const ownerGone =
      stored.owner === this.deps.owner || stored.owner === null || !(await this.deps.isAlive(stored.owner));
    if (running && ownerGone) {
      const message = `was ${stored.state} under orchestrator '${stored.owner ?? 'unknown'}', which stopped without disabling it; restarting it (its gateway and sessions ended with that process)`;
      await this.transition('ERROR', message, { error: { message, reason: 'ORCHESTRATOR_RESTARTED' } });
    }
  }

  /** Starts an instance and enables it. Idempotent: an enabled plugin stays as it is. */
  async enable(progress: Progress, reason = 'enable requested'): Promise<void> {
    if (this.serving && this.current) return;
    await this.discardCurrent();
    try {
      this.deps.checkQuota(this);
      this.starting = true; // same tick as the check: parallel enables cannot both pass it
    } catch (err) {
      await this.transition('ERROR', (err as Error).message, {
        error: recordedError(err, 'QUOTA_EXCEEDED'),
      });
      throw err;
    }
    await progress('verifying and starting the container', 20);
    const instance = this.newInstance(this.source);
    try {
      await instance.start();
      await this.transition('LOADED', `${reason}; ${describeSigner(instance)}`, {
        version: instance.manifest?.version,
      });
      await progress('enabling (onRestore, onEnable)', 70);
      await instance.enable();
    } catch (err) {
      this.starting = false;
      await instance.remove();
      await this.fail(err).catch((recordErr: unknown) =>
        this.log.error({ err: recordErr }, 'could not record the failure'),
      );
      throw err;
    }
    this.install(instance);
    this.starting = false;
    await this.transition('INITIALIZED', 'onEnable succeeded');
    await this.transition('ENABLED', reason);
    await progress('enabled', 100);
  }

  /** Runs onDisable and removes the instance. Idempotent. */
  async disable(progress: Progress, reason = 'disable requested'): Promise<void> {
    const instance = this.current;
    if (!instance) {
      if (this.cached.state !== 'DISABLED' && this.cached.state !== 'DISCOVERED')
        await this.transition('DISABLED', reason);
      return;
    }
    await progress('disabling (onDisable)', 30);
    this.serving = false;
    try {
      await instance.disable();
    } catch (err) {
      this.log.warn({ err }, 'onDisable failed; removing the container anyway');
    }
    await progress('removing the container', 70);
    await this.discardCurrent();
    if (this.cached.state === 'ENABLED' || this.cached.state === 'ERROR' || this.cached.state === 'LOADED') {
      await this.transition('DISABLED', reason);
    }
    await progress('disabled', 100);
  }

  /**
   * Hot reload: the new version is verified, started and registered first; then calls are held,
   * the old instance saves its state, is disabled and drained; the new one restores the state and
   * is enabled; held calls go to it; the old container is removed. If the new version fails, the
   * old one keeps serving with its state and the job fails with the reason.
   */
  async reload(progress: Progress, bundle?: string): Promise<{ from: string | null; to: string | null }> {
    const old = this.current;
    if (!old || !this.serving) {
      // A reload interrupted by a crash of the orchestrator runs again after it restarted, when
      // the plugin is recovering (ERROR): starting the requested version is what was asked.
      if (this.cached.state !== 'ERROR' && this.cached.state !== 'DISCOVERED') {
        throw new SandboxError(
          'INVALID_REQUEST',
          `${this.pluginId} (tenant ${this.tenant.id}) is ${this.cached.state}, not ENABLED; enable it instead`,
        );
      }
      if (bundle) this.source = bundle;
      await this.enable(progress, `reload to ${bundle ?? 'the same bundle'} while not running`);
      return { from: null, to: this.current?.manifest?.version ?? null };
    }
    const from = old.manifest?.version ?? null;
    await this.transition('RELOADING', `reload to ${bundle ?? 'the same bundle'}`);
    await progress('starting the new version', 20);
    const next = this.newInstance(bundle ?? this.source);
    try {
      await next.start();
      if (next.manifest?.id !== this.pluginId) {
        throw new SandboxError('INVALID_REQUEST', `the new bundle is ${next.manifest?.id}, not ${this.pluginId}`);
      }
    } catch (err) {
      await next.remove();
      await this.transition('ENABLED', 'reload failed; the old version keeps serving', {
        error: recordedError(err, null),
      });
      throw err;
    }

    this.gate.close();
    try {
      await progress('saving the old version’s state', 45);
      const state = await old.save();
      await progress('disabling and draining the old version', 60);
      this.serving = false;
      await old.disable();
      await old.drain(DRAIN_TIMEOUT_MS);
      await progress('restoring the state into the new version', 75);
      try {
        await next.enable(state);
      } catch (err) {
        await next.remove();
        await old.enable(); // the old instance still holds its state in memory
        this.serving = true;
        await this.transition('ENABLED', 'reload failed; the old version was enabled again', {
          error: recordedError(err, null),
        });
        throw err;
      }
      this.install(next, old);
      await this.transition('INITIALIZED', 'new version restored and enabled');
      await this.transition('ENABLED', `reloaded ${from} → ${next.manifest?.version}`, {
        version: next.manifest?.version,
      });
      if (bundle) this.source = bundle;
      if (next.manifest) this.manifest = next.manifest;
    } finally {
      this.gate.open();
    }
    await progress('removing the old version', 90);
    await old.remove();
    await progress('reloaded', 100);
    return { from, to: next.manifest?.version ?? null };
  }

  /** Stops whatever runs and enables again from the current source. */
  async restart(progress: Progress, cause: string): Promise<void> {
    const wasServing = this.serving;
    this.serving = false;
    await this.discardCurrent();
    if (wasServing) await this.transition('DISABLED', `${cause}: stopping`);
    this.restarts++;
    await this.enable(progress, cause);
  }

  /** Host → plugin call; held during a reload; NOT_FOUND unless enabled. */
  async callFunction(name: string, payload: Buffer, deadlineMs: number): Promise<Buffer> {
    await this.gate.pass(deadlineMs, `${this.pluginId}.${name}`);
    const instance = this.current;
    if (!this.serving || !instance) {
      throw new SandboxError(
        'NOT_FOUND',
        `${this.pluginId} (tenant ${this.tenant.id}) is ${this.cached.state}, not ENABLED`,
      );
    }
    return instance.callFunction(name, payload, deadlineMs);
  }

  /** Reads a shared-memory region the running plugin announced, into a new buffer or `into`. */
  readSharedMemory(name: string, into?: Buffer): Promise<Buffer> {
    if (!this.current)
      throw new SandboxError('NOT_FOUND', `${this.pluginId} (tenant ${this.tenant.id}) does not run here`);
    return this.current.readSharedMemory(name, into);
  }

  /**
   * Hands each region the plugin announces to `consume` (a host-side consumer, such as a video
   * pipeline reading frames). The plugin's notifySharedMemoryReady resolves only once every
   * consumer has finished with the region, so the plugin may write into it again from then on.
   * A consumer that throws a SandboxError refuses the region with its code and message; any
   * other failure reaches the plugin as INTERNAL_ERROR without its detail. Returns a function
   * that stops the consumer.
   */
  consumeSharedMemory(consume: (region: SharedMemoryRegion) => Promise<void> | void): () => void {
    this.regionConsumers.add(consume);
    return () => this.regionConsumers.delete(consume);
  }

  /** Checks the running chain against the CRLs as they are now; a revoked certificate disables it. */
  async checkRevocation(now = new Date()): Promise<void> {
    const chain = this.current?.verified?.signer?.chain;
    if (!this.serving || !chain) return;
    try {
      for (let i = 0; i + 1 < chain.length; i++) {
        await this.trust.crls.check(chain[i]!, chain[i + 1]!, now, this.trust.clockSkewMs);
      }
    } catch (err) {
      if (!(err instanceof TrustError) || err.reason !== 'CERT_REVOKED') {
        this.log.warn({ err }, 'CRL check of a running plugin failed; it keeps running');
        return;
      }
      this.log.error(
        { reason: err.reason, detail: err.message },
        'certificate revoked while running: disabling the plugin',
      );
      await this.disable(async () => undefined, 'certificate revoked');
      await this.fail(err);
    }
  }

  private newInstance(source: string): PluginInstance {
    const instance = new PluginInstance(this.deps.ctx, this.tenant, this.trust, source);
    instance.onSharedMemory = async (region) => {
      try {
        await Promise.all([...this.regionConsumers].map((consume) => consume(region)));
      } catch (err) {
        // A consumer's refusal reaches the plugin; the host's own failure stays in the host's log.
        if (err instanceof SandboxError) throw err;
        this.log.error({ err, region: region.name }, 'a shared-memory consumer failed');
        throw new SandboxError('INTERNAL_ERROR', `the host could not take shared memory region '${region.name}'`);
      }
    };
    return instance;
  }

  private install(instance: PluginInstance, replaced?: PluginInstance): void {
    if (replaced) replaced.onUnexpectedExit = undefined;
    instance.onUnexpectedExit = (exit) =>
      void this.deps.engineAnswers().then((answers) => {
        // A stopping engine stops its containers first: that is reported by engineLost, for every plugin.
        if (!answers) return;
        void this.onFailure(instance, {
          what: `container exited with code ${exit.exitCode}${exit.oomKilled ? ' (killed: out of memory)' : ''}`,
          reason: 'CRASHED',
          logTail: exit.logTail,
        });
      });
    this.current = instance;
    this.serving = true;
    this.missedPings = 0;
    clearInterval(this.healthTimer);
    this.healthTimer = setInterval(() => void this.checkHealth(), this.deps.supervision.healthIntervalMs);
    this.healthTimer.unref();
  }

  /** A plugin that stops answering (a hung event loop, a container gone with its engine) is treated as crashed. */
  private async checkHealth(): Promise<void> {
    const instance = this.current;
    const { healthTimeoutMs, unhealthyAfter } = this.deps.supervision;
    if (!instance || !this.serving) return;
    if (await instance.ping(healthTimeoutMs)) {
      this.missedPings = 0;
      return;
    }
    this.missedPings++;
    this.log.warn({ missedPings: this.missedPings }, 'plugin did not answer its health ping');
    if (this.missedPings >= unhealthyAfter && this.current === instance) {
      await this.onFailure(instance, {
        what: `stopped answering: ${this.missedPings} health pings in a row got no answer within ${healthTimeoutMs} ms`,
        reason: 'UNRESPONSIVE',
        logTail: instance.logTail(),
      });
    }
  }

  /**
   * The Docker engine went away with the container: not the plugin's crash, so no crash is counted
   * and no restart scheduled; it is enabled again once the engine answers (the orchestrator does).
   */
  async engineLost(reason: string): Promise<void> {
    const instance = this.current;
    if (!instance) return;
    this.serving = false;
    const message = `${reason}; enabling it again once the engine answers`;
    this.log.error({ reason }, 'the Docker engine went away with the plugin');
    await this.discardCurrent();
    await this.transition('ERROR', message, { error: { message, reason: 'ENGINE_LOST' } });
  }

  private async discardCurrent(): Promise<void> {
    clearInterval(this.healthTimer);
    const instance = this.current;
    this.current = undefined;
    this.serving = false;
    if (instance) {
      instance.onUnexpectedExit = undefined;
      await instance.remove();
    }
  }

  /** The instance died or hung: restart with backoff and jitter, or stop at a crash loop. */
  private async onFailure(instance: PluginInstance, failure: Failure): Promise<void> {
    if (this.current !== instance) return;
    this.serving = false;
    const { crashLoopWindowMs } = this.deps.supervision;
    const decision = this.crashPolicy.onFailure(Date.now());
    const tail = failure.logTail.length > 0 ? `; last output:\n${failure.logTail.slice(-5).join('\n')}` : '';
    try {
      await this.discardCurrent();
      if (!decision.restart) {
        const message = `crash loop: ${decision.crashes} crashes within ${crashLoopWindowMs} ms, not restarting; last: ${failure.what}${tail}`;
        this.log.error({ what: failure.what }, 'crash loop; giving up');
        await this.transition('ERROR', message, { error: { message, reason: 'CRASH_LOOP' } });
        return;
      }
      const { crashes, delayMs } = decision;
      const message = `${failure.what}; restarting in ${delayMs} ms (crash ${crashes} of at most ${this.deps.supervision.crashLoopRestarts - 1} within the window)${tail}`;
      this.log.warn({ what: failure.what, delayMs }, 'plugin failed; restart scheduled');
      await this.transition('ERROR', message, { error: { message, reason: failure.reason } });
      const kind = failure.reason === 'CRASHED' ? 'crash' : 'unresponsive';
      await this.deps.scheduleRestart(this, delayMs, `${kind} restart ${crashes}`);
    } catch (err) {
      this.log.error({ err }, 'failure handling failed');
    }
  }

  private async fail(err: unknown): Promise<void> {
    const error = recordedError(err, 'START_FAILED');
    await this.transition('ERROR', error.message, { error });
  }

  private async transition(
    to: PluginState,
    reason: string,
    extra: { version?: string | undefined; error?: RecordedError } = {},
  ): Promise<void> {
    const { error } = extra;
    const transition = await this.deps.store.transition(this.tenant.id, this.pluginId, to, reason, {
      ...(extra.version ? { version: extra.version } : {}),
      ...(error ? { error } : {}),
      owner: to === 'DISABLED' ? null : this.deps.owner,
    });
    this.log.info({ from: transition.from, to, reason }, 'state changed');
    this.cached = {
      state: to,
      lastTransition: transition,
      lastError: error ? error.message : to === 'ENABLED' ? null : this.cached.lastError,
      reason: error ? error.reason : to === 'ENABLED' ? null : this.cached.reason,
      version: extra.version ?? this.cached.version,
      owner: to === 'DISABLED' ? null : this.deps.owner,
    };
  }
}

/** An error as the state store keeps it: its message, and a reason a machine can branch on. */
interface RecordedError {
  message: string;
  reason: string | null;
}

/** A trust refusal keeps its own reason (CERT_REVOKED, …); anything else gets `fallback`. */
function recordedError(err: unknown, fallback: string | null): RecordedError {
  const message = err instanceof Error ? err.message : String(err);
  return { message, reason: err instanceof TrustError ? err.reason : fallback };
}

function describeSigner(instance: PluginInstance): string {
  const signer = instance.verified?.signer;
  return signer ? `signed by ${signer.subject}` : 'unsigned, allowed by the tenant';
}
