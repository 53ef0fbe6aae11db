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

export interface PluginEvent {
  event_name: string;
  event_data: Buffer;
  timestamp: number;
  source_plugin_id: string;
  timestamp_ms: number;
}

export interface ApiRequest {
  api_name: string;
  payload: Buffer;
  metadata: Record<string, string>;
}

export interface ApiResponse {
  success: boolean;
  error_message: string;
  result: Buffer;
  error_code: string;
}

/** One call on the gateway's CallStream, answered by the ApiResult with its id. */
export interface ApiCall {
  id: number;
  request: ApiRequest;
  deadline_ms: number;
}

export interface ApiResult {
  id: number;
  response: ApiResponse;
}

export interface LifecycleRequest {
  action: 'ENABLE' | 'DISABLE' | 'RELOAD' | 'SHUTDOWN';
  state_data: Buffer;
}

export interface LifecycleResponse {
  success: boolean;
  message: string;
  saved_state: Buffer;
  error_code: string;
}

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
