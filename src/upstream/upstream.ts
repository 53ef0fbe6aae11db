import type { PluginEvent } from '../protocol/index.ts';
import type { UpstreamCalls } from './upstream-calls.ts';

/**
 * Where a gateway sends the calls it allows and takes its tenant's events from: a host over gRPC
 * (UpstreamHost), or the built-in host in this process (LocalUpstream).
 */
export interface Upstream {
  /** A channel for one gateway's calls. */
  openCalls(): UpstreamCalls;
  /**
   * Calls `onEvent` with each event of `tenant` until the returned function is called; `onError`
   * if the watch fails before that.
   */
  watchEvents(tenant: string, onEvent: (event: PluginEvent) => void, onError: (err: Error) => void): () => void;
}
