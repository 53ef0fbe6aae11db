import type { ServerDuplexStream } from '@grpc/grpc-js';
import { SandboxError, toGrpcStatus } from '../errors/index.ts';
import { isInNamespaceOf, SYSTEM_EVENT_PERMISSIONS, SYSTEM_SOURCE } from '../host-api/index.ts';
import type { Logger } from '../logging/index.ts';
import type { PluginEvent, PluginEventAck } from '../protocol/index.ts';
import { EventFeed } from './event-feed.ts';
import type { GatewayOptions } from './gateway-options.ts';
import type { OpenStreams } from './stream-slots.ts';

/** Events sent and not yet acknowledged, per subscriber. */
const EVENT_WINDOW = 64;
/** Events waiting beyond the window, per subscriber; the oldest is dropped past this. */
const EVENT_BUFFER = 256;

export interface SubscribeEventsContext {
  options: Pick<GatewayOptions, 'upstream' | 'identity' | 'granted' | 'metrics'>;
  streams: OpenStreams;
  log: Logger;
}

/**
 * SubscribeEvents: the tenant's events from the upstream host, those this plugin may receive,
 * under flow control (EventFeed). The upstream watch ends with the stream.
 */
export function subscribeEventsHandler(ctx: SubscribeEventsContext) {
  const { upstream, identity, granted, metrics } = ctx.options;
  const labels = { tenant: identity.tenant, plugin: identity.pluginId };
  return (call: ServerDuplexStream<PluginEventAck, PluginEvent>): void => {
    if (!ctx.streams.admit(call)) return;
    const feed = new EventFeed<PluginEvent>({
      send: (event) => call.write(event),
      window: EVENT_WINDOW,
      capacity: EVENT_BUFFER,
      onDrop: () => metrics.eventsDropped.inc(labels),
    });
    const unwatch = upstream.watchEvents(
      identity.tenant,
      (event) => {
        if (mayReceive(event, granted)) feed.push(event);
      },
      (err) => {
        ctx.log.warn({ err }, 'upstream event stream failed');
        call.emit(
          'error',
          toGrpcStatus(new SandboxError('INTERNAL_ERROR', 'event stream from the host failed; subscribe again')),
        );
      },
    );
    call.on('data', () => feed.ack());
    ctx.streams.onClosed(call, { closed: unwatch, ended: () => call.end() });
  };
}

/**
 * A system event needs the permission for its data; a plugin's event must lie in its source's
 * namespace (an upstream host that forgot to namespace it does not get it delivered).
 */
export function mayReceive(event: PluginEvent, granted: ReadonlySet<string>): boolean {
  if (event.source_plugin_id !== SYSTEM_SOURCE) return isInNamespaceOf(event.source_plugin_id, event.event_name);
  const needed = SYSTEM_EVENT_PERMISSIONS[event.event_name];
  return needed !== undefined && granted.has(needed);
}
