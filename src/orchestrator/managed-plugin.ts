import type { TenantConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import type { PluginState } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import type { TenantTrust } from '../trust/index.ts';
import { CallGate } from './call-gate.ts';
import { hotReload, type Progress, type Reloadable } from './hot-reload.ts';
import type { ManagedPluginDeps } from './managed-plugin-deps.ts';
import { PluginCrash } from './plugin-crash.ts';
import { PluginInstance } from './plugin-instance.ts';
import {
  holdsQuota,
  IDLE,
  paused,
  resumed,
  runningInstance,
  serving,
  servingInstance,
  STARTING,
  type PluginPhase,
} from './plugin-phase.ts';
import { PluginRecord, recordedError } from './plugin-record.ts';
import { describeStatus, type PluginStatus } from './plugin-status.ts';
import { PluginSupervisor, type SupervisedPlugin } from './plugin-supervisor.ts';
import { RegionConsumers, type RegionConsumer } from './region-consumers.ts';
import { findRevocation } from './revocation-check.ts';
import type { StartedPluginInstance } from './started-plugin-instance.ts';

/**
 * One plugin of one tenant over time: its state machine (kept in Redis, cached in its record),
 * the phase it is in here (one value: idle, starting, serving, paused), hot reload (hot-reload.ts)
 * and supervision (plugin-supervisor.ts). Every method is called by a lifecycle job holding the
 * plugin's lock.
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
  private readonly regionConsumers: RegionConsumers;
  private readonly record: PluginRecord;
  private readonly supervisor: PluginSupervisor;
  private phase: PluginPhase<StartedPluginInstance> = IDLE;

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
    this.regionConsumers = new RegionConsumers(this.log);
    const who = { owner: deps.owner, tenant: tenant.id, pluginId: manifest.id };
    this.record = new PluginRecord(deps.store, who, manifest.version, this.log);
    this.supervisor = new PluginSupervisor(deps.supervision, this.supervised(), this.log);
  }

  status(): PluginStatus {
    return describeStatus({
      tenant: this.tenant.id,
      pluginId: this.pluginId,
      source: this.source,
      permissions: this.manifest.permissions,
      running: runningInstance(this.phase),
      recorded: this.record.current,
      restarts: this.supervisor.restarts,
    });
  }

  /** The sandbox resources it asks for (the quota counts these). */
  get sandbox(): { memoryMb: number; cpus: number } {
    return this.manifest.sandbox;
  }

  /** Whether this process runs the plugin now. */
  get runsHere(): boolean {
    return runningInstance(this.phase) !== undefined;
  }

  /** Whether it counts against its tenant's quota: running here, or starting. */
  get holdsQuota(): boolean {
    return holdsQuota(this.phase);
  }

  /** Re-reads the state another process may have changed (before a job works on the plugin). */
  async refresh(): Promise<{ owner: string | null; state: PluginState }> {
    const stored = await this.record.read();
    if (!this.runsHere) this.record.load(stored, this.record.current.version);
    return stored;
  }

  /** Brings the cached state in line with Redis at start-up (PluginRecord.adopt). */
  adopt(): Promise<void> {
    return this.record.adopt(this.manifest.version, this.deps.isAlive);
  }

  /** Starts an instance and enables it. Idempotent: an enabled plugin stays as it is. */
  async enable(progress: Progress, reason = 'enable requested'): Promise<void> {
    if (this.phase.kind === 'serving') return;
    await this.discard();
    try {
      this.deps.checkQuota(this);
      this.phase = STARTING; // same tick as the check: parallel enables cannot both pass it
    } catch (err) {
      await this.record.transition('ERROR', (err as Error).message, { error: recordedError(err, 'QUOTA_EXCEEDED') });
      throw err;
    }
    await progress('verifying and starting the container', 20);
    let instance: StartedPluginInstance | undefined;
    try {
      instance = await this.newInstance(this.source).start();
      await this.record.transition('LOADED', `${reason}; ${instance.signerDescription}`, {
        version: instance.manifest.version,
      });
      await progress('enabling (onRestore, onEnable)', 70);
      await instance.enable();
    } catch (err) {
      this.phase = IDLE;
      await instance?.remove();
      if (err instanceof PluginCrash) throw await this.supervisor.enableCrashed(err); // died in onEnable
      await this.record
        .fail(err)
        .catch((recordErr: unknown) => this.log.error({ err: recordErr }, 'could not record the failure'));
      throw err;
    }
    this.install(instance);
    await this.record.transition('INITIALIZED', 'onEnable succeeded');
    await this.record.transition('ENABLED', reason);
    await progress('enabled', 100);
  }

  /** Runs onDisable and removes the instance. Idempotent. */
  async disable(progress: Progress, reason = 'disable requested'): Promise<void> {
    const instance = runningInstance(this.phase);
    const { state } = this.record.current;
    if (!instance) {
      if (state !== 'DISABLED' && state !== 'DISCOVERED') await this.record.transition('DISABLED', reason);
      return;
    }
    await progress('disabling (onDisable)', 30);
    this.phase = paused(this.phase);
    try {
      await instance.disable();
    } catch (err) {
      this.log.warn({ err }, 'onDisable failed; removing the container anyway');
    }
    await progress('removing the container', 70);
    await this.discard();
    if (['ENABLED', 'ERROR', 'LOADED'].includes(this.record.current.state)) {
      await this.record.transition('DISABLED', reason);
    }
    await progress('disabled', 100);
  }

  /** Hot reload (hot-reload.ts); a plugin that does not serve is enabled with the requested version. */
  async reload(progress: Progress, bundle?: string): Promise<{ from: string | null; to: string | null }> {
    const old = servingInstance(this.phase);
    if (old) return hotReload(this.reloadable(), old, this.source, progress, bundle);
    // Re-run after an orchestrator crash while the plugin recovers (ERROR): start what was asked.
    const { state } = this.record.current;
    if (state !== 'ERROR' && state !== 'DISCOVERED') {
      throw new SandboxError(
        'INVALID_REQUEST',
        `${this.pluginId} (tenant ${this.tenant.id}) is ${state}, not ENABLED; enable it instead`,
      );
    }
    if (bundle) this.source = bundle;
    await this.enable(progress, `reload to ${bundle ?? 'the same bundle'} while not running`);
    return { from: null, to: runningInstance(this.phase)?.manifest.version ?? null };
  }

  /**
   * Stops whatever runs and enables again from the current source. A restart the supervisor
   * scheduled is void once the plugin left ERROR meanwhile (disabled, or enabled by a job).
   */
  async restart(progress: Progress, cause: string, supervised = false): Promise<void> {
    const { state } = this.record.current;
    if (supervised && state !== 'ERROR') return progress(`not restarted: ${state} since the crash`, 100);
    const wasServing = this.phase.kind === 'serving';
    await this.discard();
    if (wasServing) await this.record.transition('DISABLED', `${cause}: stopping`);
    this.supervisor.countRestart();
    await this.enable(progress, cause);
  }

  /** Host → plugin call; held during a reload; NOT_FOUND unless enabled. */
  async callFunction(name: string, payload: Buffer, deadlineMs: number): Promise<Buffer> {
    await this.gate.pass(deadlineMs, `${this.pluginId}.${name}`);
    const instance = servingInstance(this.phase);
    if (!instance) {
      throw new SandboxError(
        'NOT_FOUND',
        `${this.pluginId} (tenant ${this.tenant.id}) is ${this.record.current.state}, not ENABLED`,
      );
    }
    return instance.callFunction(name, payload, deadlineMs);
  }

  /** The serving instance's onSave, with no hand-over: `verify` compares it before and after a reload. */
  saveState(): Promise<Buffer> {
    const instance = servingInstance(this.phase);
    if (!instance) throw new SandboxError('NOT_FOUND', `${this.pluginId} is ${this.record.current.state}, not ENABLED`);
    return instance.save();
  }

  /** Reads a shared-memory region the running plugin announced, into a new buffer or `into`. */
  readSharedMemory(name: string, into?: Buffer): Promise<Buffer> {
    const instance = runningInstance(this.phase);
    if (!instance) throw new SandboxError('NOT_FOUND', `${this.pluginId} (tenant ${this.tenant.id}) does not run here`);
    return instance.readSharedMemory(name, into);
  }

  /** Adds a host-side consumer of the regions the plugin announces (see RegionConsumers); returns its remover. */
  consumeSharedMemory(consume: RegionConsumer): () => void {
    return this.regionConsumers.add(consume);
  }

  /** Checks the running chain against the CRLs as they are now; a revoked certificate disables it. */
  async checkRevocation(now = new Date()): Promise<void> {
    const instance = servingInstance(this.phase);
    if (!instance) return;
    const revoked = await findRevocation(instance.verified.signer, this.trust, now, this.log);
    if (!revoked) return;
    await this.disable(async () => undefined, 'certificate revoked');
    await this.record.fail(revoked);
  }

  /** The Docker engine went away with the container (see PluginSupervisor.engineLost). */
  engineLost(reason: string): Promise<void> {
    return this.supervisor.engineLost(reason);
  }

  private newInstance(source: string): PluginInstance {
    return new PluginInstance(this.deps.ctx, this.tenant, this.trust, source, (region) =>
      this.regionConsumers.deliver(region),
    );
  }

  private install(instance: StartedPluginInstance, replaced?: StartedPluginInstance): void {
    if (replaced) replaced.onUnexpectedExit = undefined;
    this.phase = serving(instance);
    this.supervisor.watch(instance);
  }

  private async discard(): Promise<void> {
    this.supervisor.unwatch();
    const instance = runningInstance(this.phase);
    this.phase = IDLE;
    if (instance) {
      instance.onUnexpectedExit = undefined;
      await instance.remove();
    }
  }

  /** The supervisor's view of this plugin. */
  private supervised(): SupervisedPlugin {
    return {
      phase: () => this.phase,
      record: this.record,
      pause: () => (this.phase = paused(this.phase)),
      discard: () => this.discard(),
      engineAnswers: () => this.deps.engineAnswers(),
      scheduleRestart: (delayMs, cause) => this.deps.scheduleRestart(this, delayMs, cause),
    };
  }

  /** A hot reload's view of this plugin. */
  private reloadable(): Reloadable {
    return {
      pluginId: this.pluginId,
      record: this.record,
      gate: this.gate,
      newInstance: (source) => this.newInstance(source),
      pause: () => (this.phase = paused(this.phase)),
      resume: (instance) => {
        this.phase = resumed(this.phase, instance);
      },
      install: (next, replaced) => this.install(next, replaced),
      adopt: (bundle, manifest) => {
        if (bundle) this.source = bundle;
        this.manifest = manifest;
      },
    };
  }
}
