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
  type HostApiPayload,
} from './host-api-catalogue.ts';
export { RESULT_SHAPES, type ResultType } from './result-types.ts';
export { CLASSTOP_HOST_VERSION } from './classtop-version.ts';
