import { status as GrpcStatus, type ClientDuplexStream } from '@grpc/grpc-js';
import { tokenMetadata, type GatewayClient } from './gateway-client.ts';
import type { PluginEvent } from './protocol.ts';

/** What a listener receives: the event with its data decoded from JSON. */
export interface ReceivedEvent {
  name: string;
  data: unknown;
  /** Unix seconds, as the specification's PluginEvent. */
  timestamp: number;
  /** The same instant in Unix milliseconds. */
  timestampMs: number;
  sourcePluginId: string;
}

export type EventListener = (event: ReceivedEvent) => void | Promise<void>;

/** `'*'` listens to every event. */
export const ANY_EVENT = '*';

/**
 * One SubscribeEvents stream per plugin, opened with the first listener and closed with the last;
 * each event is acknowledged after its listeners ran.
 */
export class EventSubscription {
  private readonly client: GatewayClient;
  private readonly token: () => string;
  private readonly listeners = new Map<string, Set<EventListener>>();
  private stream: ClientDuplexStream<{ received: boolean }, PluginEvent> | undefined;

  constructor(client: GatewayClient, token: () => string) {
    this.client = client;
    this.token = token;
  }

  on(name: string, listener: EventListener): void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener);
    this.listeners.set(name, set);
    this.stream ??= this.open();
  }

  off(name: string, listener: EventListener): void {
    this.listeners.get(name)?.delete(listener);
    if (this.listeners.get(name)?.size === 0) this.listeners.delete(name);
    if (this.listeners.size === 0) this.close();
  }

  close(): void {
    this.stream?.cancel();
    this.stream = undefined;
  }

  private open(): ClientDuplexStream<{ received: boolean }, PluginEvent> {
    const stream = this.client.SubscribeEvents(tokenMetadata(this.token()));
    stream.on('data', (event: PluginEvent) => void this.dispatch(stream, event));
    stream.on('error', (err: Error & { code?: number }) => {
      if (err.code !== GrpcStatus.CANCELLED) console.error(`[classtop-sdk] event stream failed: ${err.message}`);
      if (this.stream === stream) this.stream = undefined;
    });
    return stream;
  }

  private async dispatch(
    stream: ClientDuplexStream<{ received: boolean }, PluginEvent>,
    raw: PluginEvent,
  ): Promise<void> {
    const event: ReceivedEvent = {
      name: raw.event_name,
      data: decode(raw.event_data),
      timestamp: Number(raw.timestamp),
      timestampMs: Number(raw.timestamp_ms),
      sourcePluginId: raw.source_plugin_id,
    };
    const targets = [...(this.listeners.get(raw.event_name) ?? []), ...(this.listeners.get(ANY_EVENT) ?? [])];
    for (const listener of targets) {
      try {
        await listener(event);
      } catch (err) {
        console.error(`[classtop-sdk] listener for '${raw.event_name}' threw: ${(err as Error).message}`);
      }
    }
    stream.write({ received: true });
  }
}

function decode(data: Buffer): unknown {
  if (data.length === 0) return null;
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return data.toString('utf8');
  }
}
