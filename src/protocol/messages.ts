/**
 * TypeScript shapes of the messages in proto/*.proto, as @grpc/proto-loader decodes them with
 * PROTO_LOADER_OPTIONS (snake_case fields, enums as names, int64 as number, bytes as Buffer).
 * Written by hand, next to the .proto: the protocol test (protocol.test.ts) loads the .proto files
 * and fails if a field named here is missing there.
 */
import type { PluginErrorCode } from '../errors/index.ts';

export interface PluginRegisterRequest {
  plugin_id: string;
  plugin_name: string;
  version: string;
  permissions: string[];
  certificate: Buffer;
}

export interface PluginRegisterResponse {
  success: boolean;
  message: string;
  session_token: string;
  error_code: PluginErrorCode;
  token_expires_at_ms: number;
}

export interface PluginApiRequest {
  api_name: string;
  payload: Buffer;
  metadata: Record<string, string>;
}

export interface PluginApiResponse {
  success: boolean;
  error_message: string;
  result: Buffer;
  error_code: PluginErrorCode;
}

/** One call on a CallStream (an addition), answered by the PluginApiResult with its id. */
export interface PluginApiCall {
  id: number;
  request: PluginApiRequest | null;
  /** Unix time in ms; 0 for the gateway's default. */
  deadline_ms: number;
}

export interface PluginApiResult {
  id: number;
  response: PluginApiResponse;
}

export interface PluginEvent {
  event_name: string;
  event_data: Buffer;
  /** Unix seconds, as the specification. */
  timestamp: number;
  source_plugin_id: string;
  /** Unix milliseconds (an addition). */
  timestamp_ms: number;
}

export interface PluginEventAck {
  received: boolean;
}

export type LifecycleAction = 'ENABLE' | 'DISABLE' | 'RELOAD' | 'SHUTDOWN';

export interface PluginLifecycleRequest {
  action: LifecycleAction;
  state_data: Buffer;
}

export interface PluginLifecycleResponse {
  success: boolean;
  message: string;
  saved_state: Buffer;
  error_code: PluginErrorCode;
}

export interface HostApiRequest {
  tenant: string;
  plugin_id: string;
  instance_id: string;
  api_name: string;
  payload: Buffer;
}

/** One call on the gateway's `Calls` stream; `cancel` withdraws the call `id`. */
export interface HostCall {
  id: number;
  request: HostApiRequest | null;
  deadline_ms: number;
  cancel: boolean;
}

export interface HostResult {
  id: number;
  response: PluginApiResponse | null;
}

export interface WatchEventsRequest {
  tenant: string;
}
