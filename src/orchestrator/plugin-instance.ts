import { randomBytes } from 'node:crypto';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { asSandboxError, SandboxError } from '../errors/index.ts';
import { PolicyGateway, type SessionTokens, type UpstreamHost } from '../gateway/index.ts';
import type { Logger } from '../logging/index.ts';
import { loadManifest, type PluginManifest } from '../manifest/index.ts';
import {
  buildSandboxSpec,
  createPluginDirectories,
  pinPluginSocket,
  LogForwarder,
  removePluginDirectories,
  type DockerSandboxRuntime,
  type PluginDirectories,
} from '../sandbox/index.ts';
import { PluginClient } from './plugin-client.ts';
import { canTransition, type PluginState, type StateTransition } from './plugin-state.ts';

const LIFECYCLE_TIMEOUT_MS = 10_000;
const RECENT_LOG_LINES = 20;
const LOG_LINES_PER_SECOND = 200;

/** What the orchestrator shares with every instance. */
export interface InstanceContext {
  config: SandboxConfig;
  runtime: DockerSandboxRuntime;
  upstream: UpstreamHost;
  tokens: SessionTokens;
  images: { node: string };
  log: Logger;
}

/** One plugin instance's public status (admin API, `status`). */
export interface PluginStatus {
  tenant: string;
  id: string;
  version: string | null;
  directory: string;
  instanceId: string;
  state: PluginState;
  containerId: string | null;
  permissions: readonly string[];
  lastTransition: StateTransition | null;
  lastError: string | null;
}

/**
 * One plugin of one tenant running in its own container behind its own gateway. `start` goes
 * DISCOVERED → LOADED → INITIALIZED → ENABLED, or ends in ERROR having removed everything it made;
 * `stop` runs the plugin's onDisable and removes container, sockets and shm.
 */
export class PluginInstance {
  readonly tenant: TenantConfig;
  readonly directory: string;
  readonly instanceId = randomBytes(6).toString('hex');
  private readonly ctx: InstanceContext;
  private readonly log: Logger;
  private state: PluginState = 'DISCOVERED';
  private lastTransition: StateTransition | null = null;
  private lastError: string | null = null;
  private manifest: PluginManifest | undefined;
  private dirs: PluginDirectories | undefined;
  private gateway: PolicyGateway | undefined;
  private client: PluginClient | undefined;
  private containerId: string | undefined;
  private stopLogs: (() => void) | undefined;
  private stopping = false;
  private readonly recentLines: string[] = [];

  constructor(ctx: InstanceContext, tenant: TenantConfig, directory: string) {
    this.ctx = ctx;
    this.tenant = tenant;
    this.directory = directory;
    this.log = ctx.log.child({ tenant: tenant.id, instanceId: this.instanceId, pluginDir: directory });
  }

  get pluginId(): string | undefined {
    return this.manifest?.id;
  }

  status(): PluginStatus {
    return {
      tenant: this.tenant.id,
      id: this.manifest?.id ?? this.directory,
      version: this.manifest?.version ?? null,
      directory: this.directory,
      instanceId: this.instanceId,
      state: this.state,
      containerId: this.containerId ?? null,
      permissions: this.manifest?.permissions ?? [],
      lastTransition: this.lastTransition,
      lastError: this.lastError,
    };
  }

  async start(): Promise<void> {
    try {
      this.manifest = loadManifest(this.directory, this.ctx.config.limits);
      this.checkTenantAllows(this.manifest);
      this.transition('LOADED', 'manifest valid');
      await this.launch(this.manifest);
      await this.client?.lifecycle('ENABLE', this.manifest.ipcTimeoutMs);
      this.transition('INITIALIZED', 'onEnable succeeded');
      this.transition('ENABLED', 'enabled');
    } catch (err) {
      const failure = asSandboxError(err, 'start failed');
      await this.teardown();
      this.fail(failure.message);
      throw failure;
    }
  }

  /** Disables the plugin (its onDisable runs) and removes everything the instance made. */
  async stop(reason: string): Promise<void> {
    this.stopping = true;
    if (this.state === 'ENABLED' && this.client && this.manifest) {
      try {
        await this.client.lifecycle('DISABLE', LIFECYCLE_TIMEOUT_MS);
        this.transition('DISABLED', reason);
      } catch (err) {
        this.log.warn({ err }, 'plugin did not disable cleanly; removing its container anyway');
        this.fail(`disable failed: ${(err as Error).message}`);
      }
      // The process exits on SHUTDOWN; if it does not answer, the container stop ends it.
      await this.client
        .lifecycle('SHUTDOWN', LIFECYCLE_TIMEOUT_MS)
        .catch((err: unknown) => this.log.debug({ err }, 'SHUTDOWN not answered'));
    }
    await this.teardown();
  }

  /** Calls a function the plugin exports. */
  async callFunction(name: string, payload: Buffer): Promise<Buffer> {
    if (this.state !== 'ENABLED' || !this.client || !this.manifest) {
      throw new SandboxError(
        'NOT_FOUND',
        `${this.status().id} (tenant ${this.tenant.id}) is ${this.state}, not ENABLED`,
      );
    }
    const response = await this.client.callFunction(name, payload, this.manifest.ipcTimeoutMs);
    return response.result;
  }

  private checkTenantAllows(manifest: PluginManifest): void {
    const missing = [
      ...manifest.permissions.filter((p) => !this.tenant.permissions.includes(p)),
      ...manifest.privilegedPermissions.filter((p) => !this.tenant.privilegedPermissions.includes(p)),
    ];
    if (missing.length > 0) {
      throw new SandboxError(
        'PERMISSION_DENIED',
        `${manifest.id}: tenant '${this.tenant.id}' does not allow ${missing.join(', ')}; remove them from plugin.yaml or have the operator allow them`,
      );
    }
  }

  private async launch(manifest: PluginManifest): Promise<void> {
    const { config, runtime, tokens, upstream } = this.ctx;
    const roots = {
      runtimeDir: config.runtimeDir,
      shmRoot: config.shmDir,
      orchestratorId: config.orchestratorId,
      uid: config.sandboxUid,
      gid: config.sandboxGid,
    };
    this.dirs = await createPluginDirectories(roots, this.instanceId, manifest.sandbox.shmMb, this.log);
    const identity = { tenant: this.tenant.id, pluginId: manifest.id, instanceId: this.instanceId };
    this.gateway = new PolicyGateway({
      identity,
      manifest,
      granted: new Set(manifest.permissions),
      tokens,
      upstream,
      upstreamTimeoutMs: config.upstream.timeoutMs,
      log: this.log.child({ pluginId: manifest.id }),
    });
    await this.gateway.listen(this.dirs.gatewaySocket);

    const spec = buildSandboxSpec({
      orchestratorId: config.orchestratorId,
      tenant: this.tenant.id,
      instanceId: this.instanceId,
      manifest,
      imageId: this.ctx.images.node,
      uid: config.sandboxUid,
      gid: config.sandboxGid,
      socketDir: this.dirs.socketDir,
      shmDir: this.dirs.shmDir,
      limits: config.limits,
      ociRuntime: this.tenant.ociRuntime,
    });
    const sandbox = await runtime.start(spec);
    this.containerId = sandbox.id;
    this.stopLogs = await this.forwardLogs(sandbox.id, manifest.id);
    const exited = runtime.waitForExit(sandbox.id);
    void exited.then(
      (exit) => this.onExit(exit),
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
        () => reject(new SandboxError('TIMEOUT', `did not register within ${timeoutMs} ms${this.logTail()}`)),
        timeoutMs,
      );
    });
    const died = exited.then((exit) => {
      throw new SandboxError(
        'INTERNAL_ERROR',
        `container exited with code ${exit.exitCode} before registering${this.logTail()}`,
      );
    });
    try {
      await Promise.race([gateway.registered, timeout, died]);
    } finally {
      clearTimeout(timer);
      died.catch(() => undefined);
    }
  }

  private onExit(exit: { exitCode: number; oomKilled: boolean }): void {
    if (this.stopping || this.state !== 'ENABLED') return;
    this.fail(
      `container exited with code ${exit.exitCode}${exit.oomKilled ? ' (killed: out of memory)' : ''}${this.logTail()}`,
    );
  }

  private async forwardLogs(containerId: string, pluginId: string): Promise<() => void> {
    const pluginLog = this.log.child({ pluginId, source: 'plugin' });
    const forwarders = { stdout: this.forwarder(pluginLog, 'stdout'), stderr: this.forwarder(pluginLog, 'stderr') };
    return this.ctx.runtime.followLogs(containerId, (stream, chunk) => forwarders[stream].push(chunk));
  }

  private forwarder(log: Logger, stream: 'stdout' | 'stderr'): LogForwarder {
    return new LogForwarder({
      maxLineBytes: this.ctx.config.limits.logLineMaxBytes,
      maxLinesPerSecond: LOG_LINES_PER_SECOND,
      emit: (line, truncated) => {
        this.recentLines.push(line);
        if (this.recentLines.length > RECENT_LOG_LINES) this.recentLines.shift();
        log[stream === 'stderr' ? 'warn' : 'info']({ stream, plugin: { line }, truncated }, 'plugin output');
      },
      onDropped: (count) => log.warn({ stream, dropped: count }, 'plugin output over the rate limit was dropped'),
    });
  }

  private logTail(): string {
    return this.recentLines.length > 0 ? `; last output:\n${this.recentLines.slice(-5).join('\n')}` : '';
  }

  /** Removes container, gateway, client and directories; each step runs whatever the others did. */
  private async teardown(): Promise<void> {
    this.stopping = true;
    this.stopLogs?.();
    this.client?.close();
    if (this.containerId) {
      await this.ctx.runtime
        .remove(this.containerId)
        .catch((err: unknown) => this.log.error({ err }, 'container removal failed'));
      this.containerId = undefined;
    }
    await this.gateway?.close();
    if (this.dirs)
      await removePluginDirectories(this.dirs, this.log).catch((err: unknown) =>
        this.log.error({ err }, 'directory removal failed'),
      );
  }

  private transition(to: PluginState, reason: string): void {
    if (!canTransition(this.state, to)) {
      throw new SandboxError('INTERNAL_ERROR', `illegal transition ${this.state} → ${to} (${reason})`);
    }
    this.lastTransition = { from: this.state, to, at: new Date().toISOString(), reason };
    this.log.info({ pluginId: this.manifest?.id, from: this.state, to, reason }, 'state changed');
    this.state = to;
  }

  private fail(message: string): void {
    this.lastError = message;
    this.transition('ERROR', message);
  }
}
