import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/index.ts';

const RENEWALS_PER_TTL = 3;

// Deletes or extends the lock only while it is still ours.
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/**
 * One lifecycle job per plugin at a time, across every orchestrator process on this Redis: a
 * lock with a token and a TTL, renewed while held, so a crashed holder frees it by itself.
 */
export class PluginLock {
  private readonly redis: Redis;
  private readonly ttlMs: number;

  /** `ttlMs`: how long the lock of a holder that died (and stopped renewing) lasts. */
  constructor(redis: Redis, ttlMs: number) {
    this.redis = redis;
    this.ttlMs = ttlMs;
  }

  /** Runs `work` holding the plugin's lock; returns undefined at once if another holds it. */
  async withLock<T>(
    tenant: string,
    pluginId: string,
    work: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const key = redisKeys.pluginLock(tenant, pluginId);
    const token = randomBytes(12).toString('hex');
    const acquired = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    if (acquired !== 'OK') return { ran: false };
    const renew = setInterval(
      () => void this.redis.eval(RENEW_LUA, 1, key, token, this.ttlMs).catch(() => undefined),
      this.ttlMs / RENEWALS_PER_TTL,
    );
    try {
      return { ran: true, value: await work() };
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE_LUA, 1, key, token).catch(() => undefined);
    }
  }
}
