import { Redis } from 'ioredis';
import type { Logger } from '../logging/index.ts';

/** Opens an ioredis client for `url` (redis://, rediss:// or redis+unix:///path). */
export function connectRedis(url: string, log: Logger): Redis {
  const client = url.startsWith('redis+unix://')
    ? new Redis({ path: url.slice('redis+unix://'.length), lazyConnect: true })
    : new Redis(url, { lazyConnect: true });
  client.on('error', (err: Error) => log.warn({ err }, 'redis connection error'));
  return client;
}
