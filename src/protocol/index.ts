export { loadProtocol, PROTO_DIR, PROTO_LOADER_OPTIONS, type Protocol } from './load-protocol.ts';
export { shutdownServer } from './shutdown-server.ts';
export { PROTOCOL_VERSION } from './generated/classtop-plugin.ts';
export { CPP_PLUGIN_ABI } from './generated/cpp-plugin-abi.ts';
export { checkSdkProtocolVersion } from './protocol-version.ts';
export { CONTAINER_ENV, type ContainerEnvName, type ContainerEnvVar } from './container-env.ts';
export type * from './messages.ts';
