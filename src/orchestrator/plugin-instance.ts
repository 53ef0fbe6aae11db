import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import { resolveDependencies } from '../dependencies/index.ts';
import type { Logger } from '../logging/index.ts';
import { loadManifest, type PluginManifest } from '../manifest/index.ts';
import { ARCHIVE_EXTENSION, unpackPlugin, verifyPlugin, type TenantTrust } from '../trust/index.ts';
import type { InstanceContext } from './instance-context.ts';
import { launchInstance, type ExitListener } from './instance-launch.ts';
import { imageFor } from './runtime-images.ts';
import { TeardownSteps } from './teardown-steps.ts';
import type { SharedMemoryHandler } from './shared-memory-region.ts';
import { StartedPluginInstance } from './started-plugin-instance.ts';

/**
 * One copy of a plugin, not started yet: its source and where it will run. `start()` verifies it
 * and returns the StartedPluginInstance (the way testcontainers' `start()` returns a started
 * container); a hot reload interleaves two of those, and the state machine lives in ManagedPlugin.
 */
export class PluginInstance {
  readonly instanceId = randomBytes(6).toString('hex');
  readonly source: string;
  private readonly ctx: InstanceContext;
  private readonly tenant: TenantConfig;
  private readonly trust: TenantTrust;
  private readonly onSharedMemory: SharedMemoryHandler;
  private readonly log: Logger;

  constructor(
    ctx: InstanceContext,
    tenant: TenantConfig,
    trust: TenantTrust,
    source: string,
    onSharedMemory: SharedMemoryHandler,
  ) {
    this.ctx = ctx;
    this.tenant = tenant;
    this.trust = trust;
    this.source = source;
    this.onSharedMemory = onSharedMemory;
    this.log = ctx.log.child({ tenant: tenant.id, instanceId: this.instanceId });
  }

  /**
   * Verifies the plugin and resolves its dependencies (before any of its containers exists), then starts its container behind a new
   * gateway and waits until it registers. On failure, removes everything it made and throws.
   */
  async start(): Promise<StartedPluginInstance> {
    const teardown = new TeardownSteps();
    teardown.defer(() => rm(this.stateDir('unpacked'), { recursive: true, force: true }));
    teardown.defer(() => rm(this.stateDir('bundles'), { recursive: true, force: true }));
    try {
      const source = await this.unpackIfArchive();
      const manifest = loadManifest(source, this.ctx.config.limits);
      const verified = await verifyPlugin(source, manifest, this.trust, this.stateDir('bundles'));
      // The container runs the verified snapshot, never the source directory.
      const snapshot = { ...manifest, directory: verified.directory };
      const imageId = imageFor(this.ctx.images, manifest.runtime, this.ctx.config.images);
      const dependencies = await resolveDependencies({ ...this.ctx, manifest: snapshot, tenant: this.tenant, imageId });
      const exits: ExitListener = { onUnexpectedExit: undefined };
      const launched = await launchInstance({
        ctx: this.ctx,
        tenant: this.tenant,
        instanceId: this.instanceId,
        manifest: snapshot,
        verified,
        dependenciesDir: dependencies.dir,
        teardown,
        exits,
        onSharedMemory: this.onSharedMemory,
        log: this.log,
      });
      return new StartedPluginInstance({ instanceId: this.instanceId, manifest, verified, teardown, exits, launched });
    } catch (err) {
      await teardown.run();
      throw err;
    }
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
