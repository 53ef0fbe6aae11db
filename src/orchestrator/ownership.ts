import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/index.ts';
import { redisKeys } from '../redis/index.ts';
import { LABELS, type DockerSandboxRuntime } from '../sandbox/index.ts';

const HEARTBEAT_MS = 2_000;
/** Beats a process may miss before the others consider it dead. */
const MISSED_BEATS_TO_DIE = 3;

export interface OwnershipEvents {
  /** A heartbeat did not reach Redis; the next one is tried on schedule. */
  beatFailed: [{ orchestratorId: string; err: unknown }];
  /**
   * The heartbeat had expired when it was renewed: for a while this process looked dead, and other
   * processes may have taken over its plugins (their jobs then run there, and bounce from here).
   */
  lapsed: [{ orchestratorId: string }];
}

/**
 * Which orchestrator process runs which plugin: each process keeps a heartbeat key in Redis (a
 * TTL of a few beats), a plugin whose owner's heartbeat is gone is taken over, after the dead
 * owner's containers for it are removed. A heartbeat that fails or lapses is reported (an event
 * and a log line), never ignored.
 */
export class Ownership extends EventEmitter<OwnershipEvents> {
  readonly orchestratorId: string;
  private readonly redis: Redis;
  private readonly runtime: DockerSandboxRuntime;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    redis: Redis,
    runtime: DockerSandboxRuntime,
    orchestratorId: string,
    log: Logger,
    intervalMs: number = HEARTBEAT_MS,
  ) {
    super();
    this.redis = redis;
    this.runtime = runtime;
    this.orchestratorId = orchestratorId;
    this.log = log.child({ component: 'ownership', orchestratorId });
    this.intervalMs = intervalMs;
  }

  /** Beats once (a failure throws: the process cannot claim plugins), then every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beatOnSchedule(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops beating and removes the heartbeat, so that others take over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.redis.del(redisKeys.orchestratorAlive(this.orchestratorId));
    } catch (err) {
      this.log.warn(
        { err, ttlMs: this.ttlMs },
        'could not remove the heartbeat; other orchestrators take over its plugins once it expires',
      );
    }
  }

  async isAlive(id: string): Promise<boolean> {
    if (id === this.orchestratorId) return true;
    return (await this.redis.exists(redisKeys.orchestratorAlive(id))) === 1;
  }

  /** Removes what a dead orchestrator left of one plugin (same Docker engine), before running it here. */
  async takeOver(deadOwner: string, tenant: string, pluginId: string): Promise<void> {
    const leftovers = (await this.runtime.listManaged(deadOwner)).filter(
      (c) => c.labels[LABELS.tenant] === tenant && c.labels[LABELS.pluginId] === pluginId,
    );
    this.log.warn(
      { deadOwner, tenant, pluginId, containers: leftovers.length },
      'taking over a plugin of a dead orchestrator',
    );
    for (const container of leftovers) await this.runtime.remove(container.id);
  }

  private get ttlMs(): number {
    return MISSED_BEATS_TO_DIE * this.intervalMs;
  }

  /** Renews the heartbeat; returns whether it was still there (false: it had lapsed, or this is the first). */
  private async beat(): Promise<boolean> {
    const key = redisKeys.orchestratorAlive(this.orchestratorId);
    const previous = await this.redis.set(key, String(process.pid), 'PX', this.ttlMs, 'GET');
    return previous !== null;
  }

  private async beatOnSchedule(): Promise<void> {
    let present: boolean;
    try {
      present = await this.beat();
    } catch (err) {
      this.log.warn(
        { err, ttlMs: this.ttlMs },
        'heartbeat failed; trying again, and other orchestrators may take over this one’s plugins if it stays away for its TTL',
      );
      this.emit('beatFailed', { orchestratorId: this.orchestratorId, err });
      return;
    }
    if (present) return;
    this.log.error(
      { ttlMs: this.ttlMs },
      'heartbeat had lapsed: other orchestrators may have taken over this one’s plugins; their jobs run where they now run',
    );
    this.emit('lapsed', { orchestratorId: this.orchestratorId });
  }
}
