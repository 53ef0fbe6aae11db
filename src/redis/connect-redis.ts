import { Redis } from 'ioredis';
import type { Logger } from '../logging/index.ts';

/**
 * Opens an ioredis client for `url` (redis://, rediss:// or redis+unix:///path). `forQueue`: the
 * settings BullMQ needs (commands wait for a reconnect instead of failing).
 */
export function connectRedis(url: string, log: Logger, options: { forQueue?: boolean } = {}): Redis {
  const extra = options.forQueue ? { maxRetriesPerRequest: null } : {};
  const client = url.startsWith('redis+unix://')
    ? new Redis({ path: url.slice('redis+unix://'.length), lazyConnect: true, ...extra })
    : new Redis(url, { lazyConnect: true, ...extra });
  client.on('error', (err: Error) => log.warn({ err }, 'redis connection error'));
  return client;
}
