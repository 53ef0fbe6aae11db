export { PolicyGateway, type GatewayOptions, type CallLimits } from './policy-gateway.ts';
export { createAuditLog, type AuditLog, type AuditRecord } from './audit-log.ts';
export { SessionTokens, type SessionIdentity } from './session-tokens.ts';
export { UpstreamHost, type UpstreamTls } from './upstream-host.ts';
export type { UpstreamCalls } from './upstream-calls.ts';
