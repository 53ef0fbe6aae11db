import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../logging/index.ts';
import { redisKeys } from '../redis/index.ts';

const RENEWALS_PER_TTL = 3;

// Deletes or extends the lock only while it is still ours.
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** A lock renewal that went wrong, as the `lost` and `renewalFailed` events report it. */
export interface LockTrouble {
  tenant: string;
  pluginId: string;
  /** What Redis answered, for `renewalFailed`. */
  err?: unknown;
}

export interface PluginLockEvents {
  /**
   * The lock is no longer ours (it expired, or another holder took it): the job in progress runs
   * to its end, but another job for the plugin may start meanwhile. Renewal stops.
   */
  lost: [LockTrouble];
  /** Redis did not answer a renewal: it is tried again; the lock is lost if Redis stays away for its TTL. */
  renewalFailed: [LockTrouble];
}

/**
 * One lifecycle job per plugin at a time, across every orchestrator process on this Redis: a
 * lock with a token and a TTL, renewed while held, so a crashed holder frees it by itself. Like
 * BullMQ's lock manager, a renewal that fails or finds the lock gone is reported (an event and a
 * log line), never ignored.
 */
export class PluginLock extends EventEmitter<PluginLockEvents> {
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private readonly log: Logger;

  /** `ttlMs`: how long the lock of a holder that died (and stopped renewing) lasts. */
  constructor(redis: Redis, ttlMs: number, log: Logger = createLogger({ level: 'info' })) {
    super();
    this.redis = redis;
    this.ttlMs = ttlMs;
    this.log = log.child({ component: 'plugin-lock' });
  }

  /** Runs `work` holding the plugin's lock; returns `{ ran: false }` at once if another holds it. */
  async withLock<T>(
    tenant: string,
    pluginId: string,
    work: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const key = redisKeys.pluginLock(tenant, pluginId);
    const token = randomBytes(12).toString('hex');
    const acquired = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    if (acquired !== 'OK') return { ran: false };
    let held = true;
    const renewal = setInterval(async () => {
      if (held && !(await this.renew(key, token, { tenant, pluginId }))) {
        held = false;
        clearInterval(renewal);
      }
    }, this.ttlMs / RENEWALS_PER_TTL);
    try {
      return { ran: true, value: await work() };
    } finally {
      clearInterval(renewal);
      await this.release(key, token, { tenant, pluginId });
    }
  }

  /** Extends the lock; false once it is found lost (renewing it further is pointless). */
  private async renew(key: string, token: string, plugin: { tenant: string; pluginId: string }): Promise<boolean> {
    let extended: unknown;
    try {
      extended = await this.redis.eval(RENEW_LUA, 1, key, token, this.ttlMs);
    } catch (err) {
      this.log.warn(
        { err, ...plugin, ttlMs: this.ttlMs },
        'plugin lock renewal failed; trying again, and the lock is lost if Redis stays away for its TTL',
      );
      this.emit('renewalFailed', { ...plugin, err });
      return true;
    }
    if (extended === 1) return true;
    this.log.error(
      { ...plugin },
      'plugin lock lost (it expired or another holder took it): the job in progress runs on, but another job for this plugin may start meanwhile',
    );
    this.emit('lost', { ...plugin });
    return false;
  }

  private async release(key: string, token: string, plugin: { tenant: string; pluginId: string }): Promise<void> {
    try {
      await this.redis.eval(RELEASE_LUA, 1, key, token);
    } catch (err) {
      this.log.warn(
        { err, ...plugin, ttlMs: this.ttlMs },
        'could not release the plugin lock; it expires by itself within its TTL',
      );
    }
  }
}
