import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { asSandboxError, SandboxError } from '../errors/index.ts';
import { PolicyGateway, type SessionTokens, type UpstreamHost } from '../gateway/index.ts';
import type { Logger } from '../logging/index.ts';
import { loadManifest, type PluginManifest } from '../manifest/index.ts';
import {
  ARCHIVE_EXTENSION,
  TrustError,
  unpackPlugin,
  verifyPlugin,
  type TenantTrust,
  type TrustReason,
  type VerifiedPlugin,
} from '../trust/index.ts';
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
  /** Who signed the running bundle; null when unsigned (only where the tenant allows it) or not verified yet. */
  signer: { subject: string; serial: string; fingerprint: string } | null;
  signed: boolean;
  lastTransition: StateTransition | null;
  lastError: string | null;
  /** Machine-readable reason of a trust refusal (e.g. CERT_REVOKED), else null. */
  reason: TrustReason | null;
}

/**
 * One plugin of one tenant running in its own container behind its own gateway. `start` goes
 * DISCOVERED → LOADED → INITIALIZED → ENABLED, or ends in ERROR having removed everything it made;
 * `stop` runs the plugin's onDisable and removes container, sockets and shm.
 */
export class PluginInstance {
  readonly tenant: TenantConfig;
  readonly trust: TenantTrust;
  readonly directory: string;
  readonly instanceId = randomBytes(6).toString('hex');
  private readonly ctx: InstanceContext;
  private readonly log: Logger;
  private state: PluginState = 'DISCOVERED';
  private lastTransition: StateTransition | null = null;
  private lastError: string | null = null;
  private reason: TrustReason | null = null;
  private manifest: PluginManifest | undefined;
  private verified: VerifiedPlugin | undefined;
  private dirs: PluginDirectories | undefined;
  private gateway: PolicyGateway | undefined;
  private client: PluginClient | undefined;
  private containerId: string | undefined;
  private stopLogs: (() => void) | undefined;
  private stopping = false;
  private readonly recentLines: string[] = [];

  constructor(ctx: InstanceContext, tenant: TenantConfig, trust: TenantTrust, directory: string) {
    this.ctx = ctx;
    this.tenant = tenant;
    this.trust = trust;
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
      signer: this.verified?.signer
        ? {
            subject: this.verified.signer.subject,
            serial: this.verified.signer.serial,
            fingerprint: this.verified.signer.fingerprint,
          }
        : null,
      signed: Boolean(this.verified?.signer),
      lastTransition: this.lastTransition,
      lastError: this.lastError,
      reason: this.reason,
    };
  }

  async start(): Promise<void> {
    try {
      const source = await this.unpackIfArchive();
      this.manifest = loadManifest(source, this.ctx.config.limits);
      this.verified = await verifyPlugin(source, this.manifest, this.trust, this.stateDir('bundles'));
      const signedBy = this.verified.signer
        ? `signed by ${this.verified.signer.subject}`
        : 'unsigned, allowed by the tenant';
      this.transition('LOADED', `manifest valid, ${signedBy}`);
      // The container runs the verified snapshot, never the source directory.
      await this.launch({ ...this.manifest, directory: this.verified.directory });
      await this.client?.lifecycle('ENABLE', this.manifest.ipcTimeoutMs);
      this.transition('INITIALIZED', 'onEnable succeeded');
      this.transition('ENABLED', 'enabled');
    } catch (err) {
      const failure = asSandboxError(err, 'start failed');
      await this.teardown();
      this.reason = err instanceof TrustError ? err.reason : null;
      this.fail(failure.message);
      throw failure;
    }
  }

  /**
   * Checks the running plugin's chain against the CRLs as they are now; a revoked certificate
   * disables the plugin (its onDisable runs) and leaves it in ERROR with the reason.
   */
  async recheckRevocation(now = new Date()): Promise<void> {
    const chain = this.verified?.signer?.chain;
    if (this.state !== 'ENABLED' || !chain) return;
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
      await this.stop('certificate revoked');
      this.reason = err.reason;
      this.fail(err.message);
    }
  }

  private stateDir(kind: 'bundles' | 'unpacked'): string {
    const { stateDir, orchestratorId } = this.ctx.config;
    return path.join(stateDir, orchestratorId, kind, this.instanceId);
  }

  private async unpackIfArchive(): Promise<string> {
    if (!this.directory.endsWith(ARCHIVE_EXTENSION)) return this.directory;
    const target = this.stateDir('unpacked');
    await unpackPlugin(this.directory, target);
    return target;
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
    const identity = {
      tenant: this.tenant.id,
      pluginId: manifest.id,
      instanceId: this.instanceId,
      certificateFingerprint: this.verified?.signer?.fingerprint ?? '',
    };
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
    await rm(this.stateDir('bundles'), { recursive: true, force: true });
    await rm(this.stateDir('unpacked'), { recursive: true, force: true });
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
