export { PolicyGateway, type GatewayOptions, type CallLimits } from './policy-gateway.ts';
export { createAuditLog, type AuditLog, type AuditRecord } from './audit-log.ts';
export { SessionTokens, type SessionIdentity } from './session-tokens.ts';
export { UpstreamHost, type UpstreamTls } from './upstream-host.ts';
export type { UpstreamCalls, CallChannel } from './upstream-calls.ts';
export { LocalUpstream, type LocalHost } from './local-upstream.ts';
export type { Upstream } from './upstream.ts';
