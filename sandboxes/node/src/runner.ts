/**
 * The program a node sandbox container runs: loads the plugin's entry, serves the plugin's side of
 * the protocol on its socket, registers with the gateway, and runs until the host says SHUTDOWN.
 * Its settings come from the environment the orchestrator gives the container.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { PluginLoadError } from './errors.ts';
import type { GatewayClient } from './gateway-client.ts';
import type { ContainerEnvName } from './generated/container-env.ts';
import { PluginAPI } from './plugin-api.ts';
import { Plugin } from './plugin.ts';
import { PluginServer } from './plugin-server.ts';
import { gatewayClient, PROTOCOL_VERSION, type RegisterRequest } from './protocol.ts';

const CALL_TIMEOUT_MS = 30_000;
const REGISTER_TIMEOUT_MS = 10_000;
/** Re-register when this fraction of the session token's lifetime has passed. */
const TOKEN_REFRESH_AT = 0.8;

/** A variable of the container environment contract (generated/container-env.ts), or undefined. */
function optional(name: ContainerEnvName): string | undefined {
  return process.env[name];
}

function required(name: ContainerEnvName): string {
  const value = optional(name);
  if (!value)
    throw new PluginLoadError(
      `environment variable ${name} is not set; the runner runs inside a classtop-sandbox container`,
    );
  return value;
}

function permissionsFromEnv(): string[] {
  return (optional('CLASSTOP_PLUGIN_PERMISSIONS') ?? '').split(',').filter(Boolean);
}

async function loadPlugin(entry: string, api: PluginAPI): Promise<Plugin> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  } catch (err) {
    throw new PluginLoadError(`cannot load the plugin entry ${entry}: ${(err as Error).message}`, { cause: err });
  }
  const PluginClass = module.default;
  if (typeof PluginClass !== 'function' || !(PluginClass.prototype instanceof Plugin)) {
    throw new PluginLoadError(`${entry} must export default a class that extends Plugin from '@classtop/plugin-sdk'`);
  }
  return new (PluginClass as new (api: PluginAPI) => Plugin)(api);
}

function register(client: GatewayClient, api: PluginAPI): Promise<number> {
  const certificatePath = optional('CLASSTOP_PLUGIN_CERTIFICATE') ?? '/plugin/plugin.crt';
  const request: RegisterRequest = {
    plugin_id: required('CLASSTOP_PLUGIN_ID'),
    plugin_name: optional('CLASSTOP_PLUGIN_NAME') ?? '',
    version: required('CLASSTOP_PLUGIN_VERSION'),
    permissions: permissionsFromEnv(),
    certificate: existsSync(certificatePath) ? readFileSync(certificatePath) : Buffer.alloc(0),
    // The gateway refuses an SDK whose protocol major is older than its own, saying so.
    sdk_protocol_version: PROTOCOL_VERSION,
  };
  return new Promise((resolve, reject) =>
    client.Register(
      request,
      new Metadata(),
      { deadline: Date.now() + REGISTER_TIMEOUT_MS },
      (err: ServiceError | null, response) => {
        if (err || !response?.success) {
          const reason = err?.details ?? response?.message ?? 'no response';
          return reject(new PluginLoadError(`Register was refused: ${reason}`, { cause: err }));
        }
        api.setSessionToken(response.session_token);
        return resolve(Number(response.token_expires_at_ms));
      },
    ),
  );
}

function keepTokenFresh(client: GatewayClient, api: PluginAPI, expiresAtMs: number): void {
  const delay = Math.max(1_000, (expiresAtMs - Date.now()) * TOKEN_REFRESH_AT);
  setTimeout(() => {
    register(client, api).then(
      (next) => keepTokenFresh(client, api, next),
      (err: unknown) => console.error(`[classtop-sdk] token refresh failed: ${(err as Error).message}`),
    );
  }, delay).unref();
}

async function main(): Promise<void> {
  const client = gatewayClient(required('CLASSTOP_GATEWAY_SOCKET')) as GatewayClient;
  const api = new PluginAPI(client, CALL_TIMEOUT_MS, permissionsFromEnv());
  const plugin = await loadPlugin(required('CLASSTOP_PLUGIN_ENTRY'), api);

  const pluginSocket = required('CLASSTOP_PLUGIN_SOCKET');
  rmSync(pluginSocket, { force: true });
  const server = new PluginServer(plugin, () => exit(0));
  const exit = (code: number) => {
    api.close();
    client.close();
    void server.close().then(() => process.exit(code));
  };
  await server.listen(pluginSocket);
  keepTokenFresh(client, api, await register(client, api));
  process.once('SIGTERM', () => exit(0));
}

main().catch((err: unknown) => {
  console.error(`[classtop-sdk] ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  process.exit(1);
});
