import type { Logger } from '../logging/index.ts';
import { describeExit } from './container-exit.ts';
import { CrashPolicy } from './crash-policy.ts';
import type { PluginCrash } from './plugin-crash.ts';
import { describeTail } from './plugin-output.ts';
import { runningInstance, servingInstance, type PluginPhase } from './plugin-phase.ts';
import type { PluginRecord } from './plugin-record.ts';
import { PluginStartFailure } from './plugin-start-failure.ts';
import type { StartedPluginInstance } from './started-plugin-instance.ts';

export interface SupervisionSettings {
  restartInitialMs: number;
  restartMaxMs: number;
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  unhealthyAfter: number;
}

/** What the supervisor sees of and does to its plugin. */
export interface SupervisedPlugin {
  phase(): PluginPhase<StartedPluginInstance>;
  readonly record: PluginRecord;
  /** Stops taking calls; the instance keeps running. */
  pause(): void;
  /** Removes the running instance (if any); nothing runs here afterwards. */
  discard(): Promise<void>;
  /** Whether the Docker engine answers; a container exit while it does not is the engine's loss, not a crash. */
  engineAnswers(): Promise<boolean>;
  /** Submits a durable restart job after `delayMs`. */
  scheduleRestart(delayMs: number, cause: string): Promise<void>;
}

/** Why a running instance is gone. */
interface Failure {
  what: string;
  reason: 'CRASHED' | 'UNRESPONSIVE';
  logTail: string[];
}

/**
 * Watches one plugin's running instance: an unexpected container exit, or health pings that go
 * unanswered, is a failure, restarted with backoff and jitter (CrashPolicy) or stopped at a crash
 * loop; the engine going away with the container is not counted as a crash.
 */
export class PluginSupervisor {
  private readonly settings: SupervisionSettings;
  private readonly plugin: SupervisedPlugin;
  private readonly log: Logger;
  private readonly crashPolicy: CrashPolicy;
  private healthTimer: NodeJS.Timeout | undefined;
  private missedPings = 0;
  private restartCount = 0;

  constructor(settings: SupervisionSettings, plugin: SupervisedPlugin, log: Logger) {
    this.settings = settings;
    this.plugin = plugin;
    this.log = log;
    this.crashPolicy = new CrashPolicy(settings);
  }

  /** Restarts so far (any cause). */
  get restarts(): number {
    return this.restartCount;
  }

  countRestart(): void {
    this.restartCount++;
  }

  /** Starts watching `instance`, which now serves. */
  watch(instance: StartedPluginInstance): void {
    instance.onUnexpectedExit = (exit) =>
      void this.plugin.engineAnswers().then((answers) => {
        // A stopping engine stops its containers first: that is reported by engineLost, for every plugin.
        if (!answers) return;
        void this.onFailure(instance, {
          what: describeExit(exit),
          reason: 'CRASHED',
          logTail: exit.logTail,
        });
      });
    this.missedPings = 0;
    clearInterval(this.healthTimer);
    this.healthTimer = setInterval(() => void this.checkHealth(), this.settings.healthIntervalMs);
    this.healthTimer.unref();
  }

  /** Stops the health pings (the instance is being removed). */
  unwatch(): void {
    clearInterval(this.healthTimer);
  }

  /**
   * The Docker engine went away with the container: not the plugin's crash, so no crash is counted
   * and no restart scheduled; it is enabled again once the engine answers (the orchestrator does).
   */
  async engineLost(reason: string): Promise<void> {
    if (!runningInstance(this.plugin.phase())) return;
    this.plugin.pause();
    const message = `${reason}; enabling it again once the engine answers`;
    this.log.error({ reason }, 'the Docker engine went away with the plugin');
    await this.plugin.discard();
    await this.plugin.record.transition('ERROR', message, { error: { message, reason: 'ENGINE_LOST' } });
  }

  /** A plugin that stops answering (a hung event loop, a container gone with its engine) is treated as crashed. */
  private async checkHealth(): Promise<void> {
    const instance = servingInstance(this.plugin.phase());
    const { healthTimeoutMs, unhealthyAfter } = this.settings;
    if (!instance) return;
    if (await instance.ping(healthTimeoutMs)) {
      this.missedPings = 0;
      return;
    }
    this.missedPings++;
    this.log.warn({ missedPings: this.missedPings }, 'plugin did not answer its health ping');
    if (this.missedPings >= unhealthyAfter && runningInstance(this.plugin.phase()) === instance) {
      await this.onFailure(instance, {
        what: `stopped answering: ${this.missedPings} health pings in a row got no answer within ${healthTimeoutMs} ms`,
        reason: 'UNRESPONSIVE',
        logTail: instance.logTail(),
      });
    }
  }

  /**
   * Its process died during Lifecycle ENABLE (the instance is removed already): a crash like any
   * other, counted, restarted or stopped at a crash loop. Returns the enable job's failure, which
   * names the crash and what supervision does about it.
   */
  async enableCrashed(crash: PluginCrash): Promise<PluginStartFailure> {
    const message = await this.failed({ what: crash.what, reason: 'CRASHED', logTail: crash.logTail });
    return new PluginStartFailure(crash.code, `${crash.pluginId}: ${message}`, { cause: crash });
  }

  /** The instance died or hung: restart with backoff and jitter, or stop at a crash loop. */
  private async onFailure(instance: StartedPluginInstance, failure: Failure): Promise<void> {
    if (runningInstance(this.plugin.phase()) !== instance) return;
    this.plugin.pause();
    await this.failed(failure);
  }

  /** Removes what runs, records the failure and schedules the restart (or not: a crash loop); returns the message. */
  private async failed(failure: Failure): Promise<string> {
    const { crashLoopWindowMs, crashLoopRestarts } = this.settings;
    const decision = this.crashPolicy.onFailure(Date.now());
    const tail = describeTail(failure.logTail);
    const message = decision.restart
      ? `${failure.what}; restarting in ${decision.delayMs} ms (crash ${decision.crashes} of at most ${crashLoopRestarts - 1} within the window)${tail}`
      : `crash loop: ${decision.crashes} crashes within ${crashLoopWindowMs} ms, not restarting; last: ${failure.what}${tail}`;
    try {
      await this.plugin.discard();
      if (!decision.restart) {
        this.log.error({ what: failure.what }, 'crash loop; giving up');
        await this.plugin.record.transition('ERROR', message, { error: { message, reason: 'CRASH_LOOP' } });
        return message;
      }
      this.log.warn({ what: failure.what, delayMs: decision.delayMs }, 'plugin failed; restart scheduled');
      await this.plugin.record.transition('ERROR', message, { error: { message, reason: failure.reason } });
      const kind = failure.reason === 'CRASHED' ? 'crash' : 'unresponsive';
      await this.plugin.scheduleRestart(decision.delayMs, `${kind} restart ${decision.crashes}`);
    } catch (err) {
      this.log.error({ err }, 'failure handling failed; the plugin stays down until a job enables it');
    }
    return message;
  }
}
