export { PolicyGateway, type GatewayOptions } from './policy-gateway.ts';
export { SessionTokens, type SessionIdentity } from './session-tokens.ts';
export { UpstreamHost } from './upstream-host.ts';
