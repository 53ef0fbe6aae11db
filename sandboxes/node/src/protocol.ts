import {
  credentials,
  loadPackageDefinition,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO_FILE = fileURLToPath(new URL('../proto/classtop_plugin.proto', import.meta.url));

// The message types are generated from proto/classtop_plugin.proto (scripts/generate-protocol.ts,
// `npm run generate`, into generated/): the SDK ships alone in its image with its own copy.
export type {
  PluginEvent,
  PluginApiRequest as ApiRequest,
  PluginApiResponse as ApiResponse,
  PluginApiCall as ApiCall,
  PluginApiResult as ApiResult,
  PluginLifecycleRequest as LifecycleRequest,
  PluginLifecycleResponse as LifecycleResponse,
  PluginRegisterRequest as RegisterRequest,
  PluginRegisterResponse as RegisterResponse,
} from './generated/classtop-plugin.ts';
export { PROTOCOL_VERSION } from './generated/classtop-plugin.ts';

let service: ServiceClientConstructor | undefined;

/** `classtop.plugin.ClassTopPluginService`, loaded once from the proto shipped with the SDK. */
export function pluginService(): ServiceClientConstructor {
  if (service) return service;
  const definition = loadSync(PROTO_FILE, { keepCase: true, enums: String, longs: Number, defaults: true });
  const pkg = (loadPackageDefinition(definition).classtop as GrpcObject).plugin as GrpcObject;
  service = pkg.ClassTopPluginService as ServiceClientConstructor;
  return service;
}

/** A client of the gateway on the unix socket at `socketPath`. */
export function gatewayClient(socketPath: string): Client {
  const Service = pluginService();
  return new Service(`unix://${socketPath}`, credentials.createInsecure());
}
