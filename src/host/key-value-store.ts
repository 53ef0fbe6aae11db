import type { Redis } from 'ioredis';
import { redisKeys } from '../redis/index.ts';

/** Settings (string → string) of one tenant. */
export class SettingsStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  get(tenant: string, key: string): Promise<string | null> {
    return this.redis.hget(redisKeys.settings(tenant), key);
  }

  async set(tenant: string, key: string, value: string): Promise<void> {
    await this.redis.hset(redisKeys.settings(tenant), key, value);
  }

  all(tenant: string): Promise<Record<string, string>> {
    return this.redis.hgetall(redisKeys.settings(tenant));
  }
}

/** Private JSON values of one plugin of one tenant. */
export class PluginDataStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async get(tenant: string, pluginId: string, key: string): Promise<unknown> {
    const json = await this.redis.hget(redisKeys.pluginData(tenant, pluginId), key);
    return json === null ? null : (JSON.parse(json) as unknown);
  }

  async set(tenant: string, pluginId: string, key: string, value: unknown): Promise<void> {
    await this.redis.hset(redisKeys.pluginData(tenant, pluginId), key, JSON.stringify(value ?? null));
  }

  async delete(tenant: string, pluginId: string, key: string): Promise<boolean> {
    return (await this.redis.hdel(redisKeys.pluginData(tenant, pluginId), key)) === 1;
  }
}
