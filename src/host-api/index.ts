export {
  HOST_APIS,
  findHostApi,
  isInNamespaceOf,
  MAX_PAYLOAD_DEPTH,
  parsePayload,
  pluginEventName,
  SYSTEM_EVENT_PERMISSIONS,
  SYSTEM_SOURCE,
  type HostApi,
  type HostApiName,
} from './host-api-catalogue.ts';
