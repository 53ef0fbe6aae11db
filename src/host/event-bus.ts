import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/index.ts';
import { redisKeys, tenantFromEventsChannel } from '../redis/index.ts';

export interface HostEvent {
  event_name: string;
  /** JSON text of the event's data. */
  event_data: string;
  /** Unix seconds, as the specification's PluginEvent. */
  timestamp: number;
  source_plugin_id: string;
  /** Unix milliseconds. */
  timestamp_ms: number;
}

/**
 * Events of every tenant over Redis pub/sub, so that every orchestrator process sharing the Redis
 * sees the same events. One subscriber connection; listeners are per tenant.
 */
export class EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly listeners = new EventEmitter();
  private readonly log: Logger;

  constructor(publisher: Redis, log: Logger) {
    this.publisher = publisher;
    this.subscriber = publisher.duplicate();
    this.log = log;
    this.listeners.setMaxListeners(0);
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) =>
      this.deliver(channel, message),
    );
  }

  async start(): Promise<void> {
    if (this.subscriber.status === 'wait') await this.subscriber.connect();
    await this.subscriber.psubscribe(redisKeys.allEvents());
  }

  async publish(tenant: string, event: HostEvent): Promise<void> {
    await this.publisher.publish(redisKeys.events(tenant), JSON.stringify(event));
  }

  /** Calls `listener` with each event of `tenant`; returns the function that stops it. */
  watch(tenant: string, listener: (event: HostEvent) => void): () => void {
    this.listeners.on(tenant, listener);
    return () => this.listeners.off(tenant, listener);
  }

  async stop(): Promise<void> {
    this.listeners.removeAllListeners();
    this.subscriber.disconnect();
  }

  private deliver(channel: string, message: string): void {
    const tenant = tenantFromEventsChannel(channel);
    if (tenant === undefined) return;
    try {
      this.listeners.emit(tenant, JSON.parse(message) as HostEvent);
    } catch (err) {
      this.log.error({ err, channel }, 'dropped an undecodable event');
    }
  }
}
