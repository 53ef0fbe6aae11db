export { PolicyGateway } from './policy-gateway.ts';
export type { GatewayOptions, CallLimits } from './gateway-options.ts';
export { createAuditLog, type AuditLog, type AuditRecord } from './audit-log.ts';
export { SessionTokens, type SessionIdentity } from './session-tokens.ts';
// The upstream contract lives in src/upstream; these names stay here while branches written
// against the old surface merge. New code imports them from '../upstream/index.ts'.
export {
  LocalUpstream,
  UpstreamHost,
  type CallChannel,
  type LocalHost,
  type Upstream,
  type UpstreamCalls,
  type UpstreamTls,
} from '../upstream/index.ts';
