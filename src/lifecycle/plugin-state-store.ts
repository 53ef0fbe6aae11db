import type { Redis } from 'ioredis';
import { SandboxError } from '../errors/index.ts';
import { redisKeys } from '../redis/index.ts';
import { canTransition, type PluginState, type StateTransition } from './plugin-state.ts';

const HISTORY_LENGTH = 50;

export interface StoredPluginState {
  state: PluginState;
  version: string | null;
  lastTransition: StateTransition | null;
  lastError: string | null;
  /** Machine-readable reason of the last error (a trust reason, CRASH_LOOP, …). */
  reason: string | null;
  /** Which orchestrator process runs it now. */
  owner: string | null;
}

/**
 * Plugin states in Redis, so that every orchestrator process sees the same state machine, and a
 * restarted one knows what was running. Each change records when and why; an illegal transition
 * is refused with the current state in the message.
 */
export class PluginStateStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async get(tenant: string, pluginId: string): Promise<StoredPluginState> {
    const raw = await this.redis.hgetall(redisKeys.pluginState(tenant, pluginId));
    return {
      state: (raw.state as PluginState | undefined) ?? 'DISCOVERED',
      version: raw.version || null,
      lastTransition: raw.lastTransition ? (JSON.parse(raw.lastTransition) as StateTransition) : null,
      lastError: raw.lastError || null,
      reason: raw.reason || null,
      owner: raw.owner || null,
    };
  }

  /** Moves to `to`, or throws INVALID_REQUEST naming the current state. */
  async transition(
    tenant: string,
    pluginId: string,
    to: PluginState,
    reason: string,
    extra: { version?: string; error?: { message: string; reason: string | null }; owner?: string | null } = {},
  ): Promise<StateTransition> {
    const current = await this.get(tenant, pluginId);
    if (current.state === to && to !== 'ERROR') return current.lastTransition ?? this.record(current.state, to, reason);
    if (!canTransition(current.state, to)) {
      throw new SandboxError(
        'INVALID_REQUEST',
        `${pluginId} (tenant ${tenant}) cannot go from ${current.state} to ${to}: ${reason}`,
      );
    }
    const transition = this.record(current.state, to, reason);
    const fields: Record<string, string> = { state: to, lastTransition: JSON.stringify(transition) };
    if (extra.version) fields.version = extra.version;
    if (extra.error) {
      fields.lastError = extra.error.message;
      fields.reason = extra.error.reason ?? '';
    } else if (to === 'ENABLED') {
      fields.lastError = '';
      fields.reason = '';
    }
    if (extra.owner !== undefined) fields.owner = extra.owner ?? '';
    await this.redis
      .multi()
      .hset(redisKeys.pluginState(tenant, pluginId), fields)
      .lpush(redisKeys.pluginHistory(tenant, pluginId), JSON.stringify(transition))
      .ltrim(redisKeys.pluginHistory(tenant, pluginId), 0, HISTORY_LENGTH - 1)
      .exec();
    return transition;
  }

  async history(tenant: string, pluginId: string): Promise<StateTransition[]> {
    const items = await this.redis.lrange(redisKeys.pluginHistory(tenant, pluginId), 0, HISTORY_LENGTH - 1);
    return items.map((item) => JSON.parse(item) as StateTransition);
  }

  private record(from: PluginState, to: PluginState, reason: string): StateTransition {
    return { from, to, at: new Date().toISOString(), reason };
  }
}
