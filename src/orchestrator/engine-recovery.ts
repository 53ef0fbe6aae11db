import type { LifecycleJobData } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { DockerSandboxRuntime } from '../sandbox/index.ts';
import type { ManagedPlugin } from './managed-plugin.ts';

/**
 * What the orchestrator does when the Docker engine goes away and comes back: every plugin
 * running here is recorded as ENGINE_LOST (not as a crash); once the engine answers, the stopped
 * containers it kept are removed and those plugins are enabled again.
 */
export class EngineRecovery {
  private readonly runtime: DockerSandboxRuntime;
  private readonly plugins: () => ManagedPlugin[];
  private readonly submit: (data: LifecycleJobData) => Promise<string>;
  private readonly log: Logger;
  /** Containers of plugins lost with the engine: removed once it answers again. */
  private readonly lostContainers = new Set<string>();

  constructor(
    runtime: DockerSandboxRuntime,
    plugins: () => ManagedPlugin[],
    submit: (data: LifecycleJobData) => Promise<string>,
    log: Logger,
  ) {
    this.runtime = runtime;
    this.plugins = plugins;
    this.submit = submit;
    this.log = log;
  }

  /** Every plugin running here went away with the engine: recorded as ENGINE_LOST, not as crashes. */
  async onLost(reason: string): Promise<void> {
    const running = this.plugins().filter((p) => p.runsHere);
    for (const plugin of running) {
      const { containerId } = plugin.status();
      if (containerId) this.lostContainers.add(containerId);
    }
    const results = await Promise.allSettled(running.map((p) => p.engineLost(reason)));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.log.error(
          { err: result.reason as unknown, pluginId: running[i]?.pluginId },
          'could not record the loss of the engine; the plugin is enabled again when the engine is back only if its state says ENGINE_LOST',
        );
      }
    });
  }

  /** The engine is back: remove what was lost with it (it kept the stopped containers), then enable again. */
  async onBack(): Promise<void> {
    for (const containerId of this.lostContainers) {
      await this.runtime
        .remove(containerId)
        .then(() => this.lostContainers.delete(containerId))
        .catch((err: unknown) =>
          this.log.warn({ err, containerId }, 'could not remove a container lost with the engine'),
        );
    }
    const lost = this.plugins().filter((p) => !p.runsHere && p.status().reason === 'ENGINE_LOST');
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
}
