/**
 * The container environment contract: every variable the orchestrator sets in a plugin's
 * container (src/sandbox/sandbox-spec.ts) and a language's runner reads. The one list:
 * scripts/generate-protocol.ts writes it into each SDK's generated code and into
 * generated/contract.json, and the sandbox spec must set exactly these (checked by its type).
 */
export interface ContainerEnvVar {
  /** Whether the runner cannot start without it. */
  required: boolean;
  about: string;
}

export const CONTAINER_ENV = {
  CLASSTOP_PLUGIN_ID: { required: true, about: 'the plugin id from plugin.yaml' },
  CLASSTOP_PLUGIN_NAME: { required: false, about: 'the plugin name from plugin.yaml' },
  CLASSTOP_PLUGIN_VERSION: { required: true, about: 'the plugin version from plugin.yaml' },
  CLASSTOP_PLUGIN_PERMISSIONS: { required: false, about: 'the granted permissions, comma-separated' },
  CLASSTOP_PLUGIN_ENTRY: { required: true, about: "absolute path of the plugin's entry file" },
  CLASSTOP_PLUGIN_CERTIFICATE: {
    required: false,
    about: "absolute path of the plugin's developer certificate, presented at Register",
  },
  CLASSTOP_GATEWAY_SOCKET: { required: true, about: "the gateway's unix socket: Register, CallApi, CallStream" },
  CLASSTOP_PLUGIN_SOCKET: { required: true, about: 'where the runner serves Lifecycle and exported functions' },
  CLASSTOP_TENANT: { required: false, about: 'the tenant the plugin runs for' },
  CLASSTOP_DEPENDENCIES_DIR: {
    required: false,
    about: "where the plugin's resolved dependencies are mounted read-only (python: a sys.path entry); empty when none",
  },
} as const satisfies Record<string, ContainerEnvVar>;

export type ContainerEnvName = keyof typeof CONTAINER_ENV;
