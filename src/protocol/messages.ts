/**
 * TypeScript shapes of the messages in proto/*.proto, as @grpc/proto-loader decodes them with
 * PROTO_LOADER_OPTIONS (snake_case fields, enums as names, int64 as number, bytes as Buffer, a
 * message field null when unset). Generated from the .proto files into generated/ by
 * scripts/generate-protocol.ts (`npm run generate`); this file only names them for the rest of
 * the orchestrator.
 */
export type {
  PluginApiCall,
  PluginApiRequest,
  PluginApiResponse,
  PluginApiResult,
  PluginEvent,
  PluginEventAck,
  PluginLifecycleRequest,
  PluginLifecycleResponse,
  PluginRegisterRequest,
  PluginRegisterResponse,
  PluginLifecycleRequest_Action as LifecycleAction,
} from './generated/classtop-plugin.ts';
export type { HostApiRequest, HostCall, HostResult, WatchEventsRequest } from './generated/classtop-host.ts';
