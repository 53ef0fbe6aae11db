/**
 * The one place that knows the Redis key layout. Everything is scoped by tenant, so that no key
 * of one tenant can be named from another's data.
 */
const PREFIX = 'classtop';

/** Prefix of BullMQ's own keys (the lifecycle queue). */
export const QUEUE_PREFIX = 'classtop-queue';

export const redisKeys = {
  courses: (tenant: string) => `${PREFIX}:{${tenant}}:courses`,
  courseSeq: (tenant: string) => `${PREFIX}:{${tenant}}:courses:seq`,
  courseEntries: (tenant: string, courseId: number) => `${PREFIX}:{${tenant}}:courses:${courseId}:entries`,
  entries: (tenant: string) => `${PREFIX}:{${tenant}}:entries`,
  entrySeq: (tenant: string) => `${PREFIX}:{${tenant}}:entries:seq`,
  settings: (tenant: string) => `${PREFIX}:{${tenant}}:settings`,
  pluginData: (tenant: string, pluginId: string) => `${PREFIX}:{${tenant}}:plugin-data:${pluginId}`,
  /** A plugin's lifecycle state (hash) and its transitions (list, newest first). */
  pluginState: (tenant: string, pluginId: string) => `${PREFIX}:{${tenant}}:plugin-state:${pluginId}`,
  pluginHistory: (tenant: string, pluginId: string) => `${PREFIX}:{${tenant}}:plugin-history:${pluginId}`,
  /** Held while one lifecycle job works on a plugin, by whichever process runs it. */
  pluginLock: (tenant: string, pluginId: string) => `${PREFIX}:{${tenant}}:plugin-lock:${pluginId}`,
  /** Present while orchestrator process `id` is alive (a heartbeat with a TTL). */
  orchestratorAlive: (id: string) => `${PREFIX}:orchestrators:${id}`,
  /** Pub/sub channel of one tenant's events. */
  events: (tenant: string) => `${PREFIX}:{${tenant}}:events`,
  /** Pattern matching every tenant's event channel; `tenantFromEventsChannel` reverses it. */
  allEvents: () => `${PREFIX}:{*}:events`,
} as const;

export function tenantFromEventsChannel(channel: string): string | undefined {
  const match = /^classtop:\{([^}]+)\}:events$/.exec(channel);
  return match?.[1];
}
