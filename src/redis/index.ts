export { EmbeddedRedis } from './embedded-redis.ts';
export { connectRedis } from './connect-redis.ts';
export { redisKeys, tenantFromEventsChannel, QUEUE_PREFIX } from './redis-keys.ts';
