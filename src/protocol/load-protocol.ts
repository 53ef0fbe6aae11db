import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** proto/ at the package root; this file runs compiled, from dist/src/protocol/. */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export interface Protocol {
  /** `classtop.plugin.ClassTopPluginService`: gateway and plugin both serve it. */
  PluginService: ServiceClientConstructor;
  /** `classtop.host.v1.ClassTopHostService`: the upstream host serves it. */
  HostService: ServiceClientConstructor;
}

let cached: Protocol | undefined;

/** Loads both .proto files once per process. */
export function loadProtocol(): Protocol {
  if (cached) return cached;
  const definition = loadSync(['classtop_plugin.proto', 'classtop_host.proto'], PROTO_LOADER_OPTIONS);
  const root = loadPackageDefinition(definition);
  const plugin = (root.classtop as GrpcObject).plugin as GrpcObject;
  const host = ((root.classtop as GrpcObject).host as GrpcObject).v1 as GrpcObject;
  cached = {
    PluginService: plugin.ClassTopPluginService as ServiceClientConstructor,
    HostService: host.ClassTopHostService as ServiceClientConstructor,
  };
  return cached;
}
