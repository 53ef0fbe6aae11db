export { EmbeddedRedis } from './embedded-redis.ts';
export { connectRedis } from './connect-redis.ts';
export { redisKeys, tenantFromEventsChannel } from './redis-keys.ts';
