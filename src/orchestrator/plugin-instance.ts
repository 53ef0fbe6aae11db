import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import { PolicyGateway, type AuditLog, type SessionTokens, type Upstream } from '../gateway/index.ts';
import type { SandboxMetrics } from '../metrics/index.ts';
import type { Logger } from '../logging/index.ts';
import { loadManifest, type PluginManifest } from '../manifest/index.ts';
import {
  buildSandboxSpec,
  createPluginDirectories,
  pinPluginSocket,
  checkSharedMemory,
  readSharedMemory,
  SharedMemoryViews,
  removePluginDirectories,
  type DirectoryRoots,
  type DockerSandboxRuntime,
  type PluginDirectories,
} from '../sandbox/index.ts';
import {
  ARCHIVE_EXTENSION,
  unpackPlugin,
  verifyPlugin,
  type TenantTrust,
  type VerifiedPlugin,
} from '../trust/index.ts';
import { PluginClient } from './plugin-client.ts';
import { PluginOutput } from './plugin-output.ts';
import { imageFor, type RuntimeImages } from './runtime-images.ts';

const LIFECYCLE_TIMEOUT_MS = 10_000;
const SHUTDOWN_TIMEOUT_MS = 2_000;
/** How long an exit report waits for the plugin's last output to arrive. */
const OUTPUT_DRAIN_MS = 2_000;
const MIB = 1024 * 1024;
/** The name of the health ping; no plugin exports it. */
const HEALTH_FUNCTION = '__classtop_health__';

/** What the orchestrator shares with every instance. */
export interface InstanceContext {
  config: SandboxConfig;
  runtime: DockerSandboxRuntime;
  /** The host a tenant's calls go to: its own, or the orchestrator's. */
  upstreamFor: (tenant: TenantConfig) => Upstream;
  tokens: SessionTokens;
  images: RuntimeImages;
  metrics: SandboxMetrics;
  audit: AuditLog;
  log: Logger;
}

/** Where this orchestrator's instances keep their sockets and shm directories. */
export function directoryRoots(config: SandboxConfig): DirectoryRoots {
  return {
    runtimeDir: config.runtimeDir,
    shmRoot: config.shmDir,
    orchestratorId: config.orchestratorId,
    uid: config.sandboxUid,
    gid: config.sandboxGid,
  };
}

/** A region the plugin announced, as handed to the host's consumers. */
export interface SharedMemoryRegion {
  name: string;
  size: number;
  /** Reads the region as announced, into a new buffer or one the consumer owns and reuses. */
  read: (into?: Buffer) => Promise<Buffer>;
  /**
   * Lends the region's bytes in place, without a copy, until `use` settles (zeros from then
   * on, until the region is viewed again); fails with INVALID_REQUEST if the plugin shrank the
   * region meanwhile.
   */
  view: <T>(use: (bytes: Buffer) => T | Promise<T>) => Promise<T>;
  /**
   * Aborted when the plugin cancels the announcement or its deadline passes: the plugin may
   * write the region again from then on, so a consumer should stop reading it.
   */
  withdrawn: AbortSignal;
}

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  /** The plugin's last lines of output. */
  logTail: string[];
}

/**
 * The plugin itself failed: its container died before registering, or its onRestore/onEnable
 * threw. Retrying the same bundle will not help, so the job fails at once.
 */
export class PluginStartFailure extends SandboxError {}

/**
 * One running copy of a plugin: its verified snapshot, its container, its gateway, and the client
 * the host uses to reach it. The steps are separate (start, enable, save, disable, drain, remove)
 * so that a hot reload can interleave two instances; the state machine lives in ManagedPlugin.
 */
export class PluginInstance {
  readonly instanceId = randomBytes(6).toString('hex');
  readonly source: string;
  private readonly ctx: InstanceContext;
  private readonly tenant: TenantConfig;
  private readonly trust: TenantTrust;
  private readonly log: Logger;
  private manifestValue: PluginManifest | undefined;
  private verifiedValue: VerifiedPlugin | undefined;
  private dirs: PluginDirectories | undefined;
  private gateway: PolicyGateway | undefined;
  private client: PluginClient | undefined;
  private containerIdValue: string | undefined;
  private stopLogs: (() => void) | undefined;
  private removing: Promise<void> | undefined;
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];
  private output: PluginOutput | undefined;
  /** Regions the plugin announced with notify_shared_memory_ready: name → size. */
  private readonly regions = new Map<string, number>();
  /** Called when the container exits while nobody asked it to. */
  onUnexpectedExit: ((exit: ExitInfo) => void) | undefined;
  /** Called with each region the plugin announces; the plugin's announcement waits for it. */
  onSharedMemory: ((region: SharedMemoryRegion) => Promise<void>) | undefined;

  constructor(ctx: InstanceContext, tenant: TenantConfig, trust: TenantTrust, source: string) {
    this.ctx = ctx;
    this.tenant = tenant;
    this.trust = trust;
    this.source = source;
    this.log = ctx.log.child({ tenant: tenant.id, instanceId: this.instanceId });
  }

  get manifest(): PluginManifest | undefined {
    return this.manifestValue;
  }

  get verified(): VerifiedPlugin | undefined {
    return this.verifiedValue;
  }

  get containerId(): string | undefined {
    return this.containerIdValue;
  }

  /**
   * Verifies the plugin (before any container exists), then starts its container behind a new
   * gateway and waits until it registers. On failure, removes everything it made and throws.
   */
  async start(): Promise<void> {
    try {
      const source = await this.unpackIfArchive();
      const manifest = loadManifest(source, this.ctx.config.limits);
      this.manifestValue = manifest;
      this.verifiedValue = await verifyPlugin(source, manifest, this.trust, this.stateDir('bundles'));
      // The container runs the verified snapshot, never the source directory.
      await this.launch({ ...manifest, directory: this.verifiedValue.directory });
    } catch (err) {
      await this.remove();
      throw err;
    }
  }

  /** Lifecycle ENABLE: onRestore(state) when there is one, then onEnable. */
  async enable(state?: Buffer): Promise<void> {
    const client = this.requireClient();
    try {
      await client.lifecycle('ENABLE', this.timeoutMs(), state);
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      throw new PluginStartFailure(err.code, err.message, { cause: err });
    }
  }

  /** Lifecycle RELOAD: the plugin's onSave, as bytes to hand to the next version. */
  async save(): Promise<Buffer> {
    return (await this.requireClient().lifecycle('RELOAD', this.timeoutMs())).saved_state;
  }

  /** Lifecycle DISABLE: onDisable. */
  async disable(): Promise<void> {
    await this.requireClient().lifecycle('DISABLE', LIFECYCLE_TIMEOUT_MS);
  }

  /** Settles when every host → plugin call in progress has finished (or after `timeoutMs`). */
  drain(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Calls a function the plugin exports, counted so that a reload can wait for it. */
  async callFunction(name: string, payload: Buffer, deadlineMs: number): Promise<Buffer> {
    this.inFlight++;
    try {
      return (await this.requireClient().callFunction(name, payload, Math.max(1, deadlineMs - Date.now()))).result;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drainWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /** Reads a region the plugin announced (the host side of shm.read). */
  async readSharedMemory(name: string, into?: Buffer): Promise<Buffer> {
    const size = this.regions.get(name);
    if (size === undefined || !this.dirs || !this.manifestValue) {
      throw new SandboxError('NOT_FOUND', `no shared memory region '${name}' was announced by this plugin`);
    }
    return readSharedMemory(this.dirs.shmDir, name, size, this.manifestValue.sandbox.shmMb * MIB, into);
  }

  /**
   * Whether the plugin answers: any reply to a call of a reserved name (normally "no such
   * function") proves its process and event loop are alive; a timeout or a dead socket does not.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await this.requireClient().callFunction(HEALTH_FUNCTION, Buffer.from('null'), timeoutMs);
      return true;
    } catch (err) {
      return err instanceof SandboxError && err.code === 'NOT_FOUND';
    }
  }

  logTail(): string[] {
    return this.output?.lines() ?? [];
  }

  /** Asks the plugin to exit (SHUTDOWN), then removes container, gateway, sockets, shm, snapshot. Idempotent. */
  remove(): Promise<void> {
    this.removing ??= this.teardown();
    return this.removing;
  }

  private async launch(manifest: PluginManifest): Promise<void> {
    const { config, runtime, tokens } = this.ctx;
    const upstream = this.ctx.upstreamFor(this.tenant);
    this.dirs = await createPluginDirectories(
      directoryRoots(config),
      this.instanceId,
      manifest.sandbox.shmMb,
      this.log,
    );
    const { shmDir } = this.dirs;
    const maxBytes = manifest.sandbox.shmMb * MIB;
    const views = new SharedMemoryViews(shmDir, maxBytes);
    const identity = {
      tenant: this.tenant.id,
      pluginId: manifest.id,
      instanceId: this.instanceId,
      certificateFingerprint: this.verifiedValue?.signer?.fingerprint ?? '',
    };
    this.gateway = new PolicyGateway({
      identity,
      manifest,
      granted: new Set(manifest.permissions),
      tokens,
      upstream,
      limits: {
        ...this.tenant.callLimits,
        maxDeadlineMs: Math.min(this.tenant.callLimits.maxDeadlineMs, config.upstream.timeoutMs),
      },
      metrics: this.ctx.metrics,
      audit: this.ctx.audit,
      onSharedMemoryReady: async (name, size, withdrawn) => {
        // Only a region that is there, in this plugin's own directory, within its shm_mb.
        checkSharedMemory(shmDir, name, size, maxBytes);
        this.regions.set(name, size);
        await this.onSharedMemory?.({
          name,
          size,
          read: (into) => readSharedMemory(shmDir, name, size, maxBytes, into),
          view: (use) => views.view(name, size, use),
          withdrawn,
        });
      },
      log: this.log.child({ pluginId: manifest.id }),
    });
    await this.gateway.listen(this.dirs.gatewaySocket);

    const spec = buildSandboxSpec({
      orchestratorId: config.orchestratorId,
      tenant: this.tenant.id,
      instanceId: this.instanceId,
      manifest,
      imageId: imageFor(this.ctx.images, manifest.runtime, config.images),
      uid: config.sandboxUid,
      gid: config.sandboxGid,
      socketDir: this.dirs.socketDir,
      shmDir: this.dirs.shmDir,
      limits: config.limits,
      health: config.supervision.containerHealth,
      ociRuntime: this.tenant.ociRuntime,
    });
    const output = new PluginOutput(
      this.log.child({ pluginId: manifest.id, source: 'plugin' }),
      config.limits.logLineMaxBytes,
    );
    this.output = output;
    const sandbox = await runtime.start(spec, (stream, chunk) => output.push(stream, chunk));
    this.containerIdValue = sandbox.id;
    this.stopLogs = sandbox.output.stop;
    const exited = runtime.waitForExit(sandbox.id);
    void exited.then(
      async (exit) => {
        // Its last lines may still be on their way when the engine reports the exit.
        await sandbox.output.endedWithin(OUTPUT_DRAIN_MS);
        output.end();
        if (!this.removing) this.onUnexpectedExit?.({ ...exit, logTail: this.logTail() });
      },
      () => undefined,
    );
    await this.waitForRegister(this.gateway, exited);
    // The runner listens on plugin.sock before it registers.
    this.client = new PluginClient(await pinPluginSocket(this.dirs, config.sandboxUid), manifest.id);
  }

  private async waitForRegister(
    gateway: PolicyGateway,
    exited: Promise<{ exitCode: number; oomKilled: boolean }>,
  ): Promise<void> {
    const timeoutMs = this.ctx.config.startTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PluginStartFailure(
              'TIMEOUT',
              `did not register within ${timeoutMs} ms${this.output?.describeTail() ?? ''}`,
            ),
          ),
        timeoutMs,
      );
    });
    const died = exited.then((exit) => {
      throw new PluginStartFailure(
        'INTERNAL_ERROR',
        `container exited with code ${exit.exitCode} before registering${this.output?.describeTail() ?? ''}`,
      );
    });
    try {
      await Promise.race([gateway.registered, timeout, died]);
    } finally {
      clearTimeout(timer);
      died.catch(() => undefined);
    }
  }

  private async teardown(): Promise<void> {
    if (this.client) {
      await this.client.lifecycle('SHUTDOWN', SHUTDOWN_TIMEOUT_MS).catch(() => undefined);
      this.client.close();
    }
    this.stopLogs?.();
    if (this.containerIdValue) {
      await this.ctx.runtime
        .remove(this.containerIdValue)
        .catch((err: unknown) => this.log.error({ err }, 'container removal failed'));
      this.containerIdValue = undefined;
    }
    await this.gateway?.close();
    if (this.dirs) {
      await removePluginDirectories(this.dirs, this.log).catch((err: unknown) =>
        this.log.error({ err }, 'directory removal failed'),
      );
    }
    await rm(this.stateDir('bundles'), { recursive: true, force: true });
    await rm(this.stateDir('unpacked'), { recursive: true, force: true });
  }

  private requireClient(): PluginClient {
    if (!this.client || this.removing)
      throw new SandboxError('NOT_FOUND', `instance ${this.instanceId} is not running`);
    return this.client;
  }

  private timeoutMs(): number {
    return this.manifestValue?.ipcTimeoutMs ?? LIFECYCLE_TIMEOUT_MS;
  }

  private stateDir(kind: 'bundles' | 'unpacked'): string {
    const { stateDir, orchestratorId } = this.ctx.config;
    return path.join(stateDir, orchestratorId, kind, this.instanceId);
  }

  private async unpackIfArchive(): Promise<string> {
    if (!this.source.endsWith(ARCHIVE_EXTENSION)) return this.source;
    const target = this.stateDir('unpacked');
    await unpackPlugin(this.source, target);
    return target;
  }
}

/** Reads a plugin's identity without starting anything (unpacking an archive to a scratch directory). */
export async function discoverPlugin(source: string, config: SandboxConfig, scratch: string): Promise<PluginManifest> {
  if (!source.endsWith(ARCHIVE_EXTENSION)) return loadManifest(source, config.limits);
  try {
    await unpackPlugin(source, scratch);
    return loadManifest(scratch, config.limits);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
