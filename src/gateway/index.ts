export { PolicyGateway } from './policy-gateway.ts';
export type { GatewayOptions, CallLimits } from './gateway-options.ts';
export { createAuditLog, type AuditLog, type AuditRecord } from './audit-log.ts';
export { SessionTokens, type SessionIdentity } from './session-tokens.ts';
