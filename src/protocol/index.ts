export { loadProtocol, PROTO_DIR, PROTO_LOADER_OPTIONS, type Protocol } from './load-protocol.ts';
export { shutdownServer } from './shutdown-server.ts';
export type * from './messages.ts';
