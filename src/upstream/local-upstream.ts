import type { PluginEvent } from '../protocol/index.ts';
import { UpstreamCalls, type CallChannel } from './upstream-calls.ts';
import type { Upstream } from './upstream.ts';

/** What the built-in host offers to gateways in its own process: its gRPC service, without the gRPC. */
export interface LocalHost {
  openCalls(): CallChannel;
  watchEvents(tenant: string, onEvent: (event: PluginEvent) => void): () => void;
}

/**
 * The built-in host when it runs in the gateway's process: a call reaches its handler without a
 * socket, a protobuf encoding or an HTTP/2 stream each way. Deadlines and cancellation are kept by
 * UpstreamCalls, as for a host over gRPC.
 */
export class LocalUpstream implements Upstream {
  private readonly host: LocalHost;

  constructor(host: LocalHost) {
    this.host = host;
  }

  openCalls(): UpstreamCalls {
    return new UpstreamCalls(() => this.host.openCalls());
  }

  watchEvents(tenant: string, onEvent: (event: PluginEvent) => void): () => void {
    return this.host.watchEvents(tenant, onEvent);
  }
}
