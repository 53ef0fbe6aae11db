import type { Redis } from 'ioredis';
import { SandboxError } from '../errors/index.ts';
import { PermanentJobFailure, PluginBusy, type LifecycleJobData, type PluginLock } from '../lifecycle/index.ts';
import { redisKeys } from '../redis/index.ts';
import type { Progress } from './hot-reload.ts';
import type { ManagedPlugin } from './managed-plugin.ts';
import type { Ownership } from './ownership.ts';
import { PluginStartFailure } from './plugin-start-failure.ts';

/** A job's answer when another live process runs the plugin. */
const BOUNCE = Symbol('bounce');

export interface JobDispatcherDeps {
  redis: Redis;
  lock: PluginLock;
  ownership: Ownership;
  find: (tenant: string, pluginId: string) => ManagedPlugin;
}

/**
 * Runs one lifecycle job: under the plugin's lock, on the process that owns the plugin (a job for
 * a plugin another live process runs goes back to the queue; a dead owner's plugin is taken over
 * here), as the plugin's method for the job's action. A failure retrying cannot fix fails the job
 * at once.
 */
export class JobDispatcher {
  private readonly deps: JobDispatcherDeps;

  constructor(deps: JobDispatcherDeps) {
    this.deps = deps;
  }

  async process(data: LifecycleJobData, progress: Progress): Promise<unknown> {
    let plugin: ManagedPlugin;
    try {
      plugin = this.deps.find(data.tenant, data.pluginId);
    } catch (err) {
      throw new PermanentJobFailure((err as Error).message);
    }
    const result = await this.deps.lock.withLock(data.tenant, data.pluginId, async () => {
      if (await this.runsElsewhere(plugin, data)) return BOUNCE;
      try {
        return await this.run(plugin, data, progress);
      } catch (err) {
        throw isPermanent(err) ? new PermanentJobFailure((err as Error).message) : err;
      }
    });
    if (!result.ran) throw new PluginBusy(`${data.pluginId} is busy with another job`);
    if (result.value === BOUNCE) throw new PluginBusy(`${data.pluginId} runs under another orchestrator`);
    return result.value;
  }

  /** One process runs a plugin: true when a live other one does; a dead owner's plugin is taken over. */
  private async runsElsewhere(plugin: ManagedPlugin, data: LifecycleJobData): Promise<boolean> {
    const { ownership } = this.deps;
    const { owner, state } = await plugin.refresh();
    if (!owner || owner === ownership.orchestratorId || state === 'DISABLED') return false;
    if (await ownership.isAlive(owner)) return true;
    await ownership.takeOver(owner, data.tenant, data.pluginId);
    return false;
  }

  private async run(plugin: ManagedPlugin, data: LifecycleJobData, progress: Progress): Promise<unknown> {
    switch (data.action) {
      case 'enable':
        return plugin.enable(progress, `enable (${data.cause})`);
      case 'disable':
      case 'shutdown':
        return plugin.disable(progress, `${data.action} (${data.cause})`);
      case 'uninstall':
        await plugin.disable(progress, `uninstall (${data.cause})`);
        await this.deps.redis.del(redisKeys.pluginData(data.tenant, data.pluginId));
        return undefined;
      case 'reload':
        return plugin.reload(progress, data.bundle);
      case 'restart':
        return plugin.restart(progress, data.cause, data.supervised ?? false);
    }
  }
}

/** A failure that retrying the same job cannot fix: bad bundle, refused trust, a plugin that dies at start. */
function isPermanent(err: unknown): boolean {
  if (err instanceof PluginStartFailure) return true;
  return err instanceof SandboxError && err.code !== 'INTERNAL_ERROR';
}
