export type { Upstream } from './upstream.ts';
export { UpstreamCalls, type CallChannel } from './upstream-calls.ts';
export { LocalUpstream, type LocalHost } from './local-upstream.ts';
export { UpstreamHost, type UpstreamTls } from './upstream-host.ts';
