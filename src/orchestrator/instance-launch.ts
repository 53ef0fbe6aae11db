import type { TenantConfig } from '../config/index.ts';
import { PolicyGateway } from '../gateway/index.ts';
import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import type { PluginRegisterRequest } from '../protocol/index.ts';
import {
  buildSandboxSpec,
  checkSharedMemory,
  createPluginDirectories,
  pinPluginSocket,
  readSharedMemory,
  removePluginDirectories,
  SharedMemoryViews,
  type PluginDirectories,
} from '../sandbox/index.ts';
import type { VerifiedPlugin } from '../trust/index.ts';
import { describeExit } from './container-exit.ts';
import type { InstanceContext } from './instance-context.ts';
import { directoryRoots } from './instance-context.ts';
import type { TeardownSteps } from './teardown-steps.ts';
import { PluginClient } from './plugin-client.ts';
import { PluginOutput } from './plugin-output.ts';
import { PluginStartFailure } from './plugin-start-failure.ts';
import type { SharedMemoryHandler } from './shared-memory-region.ts';
import { imageFor } from './runtime-images.ts';

const SHUTDOWN_TIMEOUT_MS = 2_000;
/** How long an exit report waits for the plugin's last output to arrive. */
const OUTPUT_DRAIN_MS = 2_000;
const MIB = 1024 * 1024;

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  /** The plugin's last lines of output. */
  logTail: string[];
}

/** Who hears of the container's exit when nobody asked it to stop; set once the instance runs. */
export interface ExitListener {
  onUnexpectedExit: ((exit: ExitInfo) => void) | undefined;
}

/** One plugin instance to launch: who, what (the verified snapshot), and where its undo steps go. */
export interface LaunchRequest {
  ctx: InstanceContext;
  tenant: TenantConfig;
  instanceId: string;
  /** The manifest, with `directory` pointing at the verified snapshot. */
  manifest: PluginManifest;
  verified: VerifiedPlugin;
  /** Host directory of its resolved dependencies (src/dependencies), mounted read-only; null when none. */
  dependenciesDir: string | null;
  teardown: TeardownSteps;
  exits: ExitListener;
  onSharedMemory: SharedMemoryHandler;
  log: Logger;
}

/** What a launched, registered instance is made of. */
export interface Launched {
  containerId: string;
  dirs: PluginDirectories;
  client: PluginClient;
  output: PluginOutput;
  /** Regions the plugin announced with notify_shared_memory_ready: name → size. */
  regions: Map<string, number>;
  /** The protocol version its SDK stated at Register; null when it stated none. */
  sdkProtocolVersion: string | null;
  /** Settles when the container exits (with its last output); rejects if the engine lost track of it. */
  exit: Promise<ExitInfo>;
}

/**
 * Starts the plugin's container behind a new gateway and waits until it registers. Each resource
 * adds its undo step to the request's teardown as it is made; the caller runs it on failure.
 */
export async function launchInstance(req: LaunchRequest): Promise<Launched> {
  const { config } = req.ctx;
  const dirs = await createPluginDirectories(
    directoryRoots(config),
    req.instanceId,
    req.manifest.sandbox.shmMb,
    req.log,
  );
  req.teardown.defer(() =>
    removePluginDirectories(dirs, req.log).catch((err: unknown) => req.log.error({ err }, 'directory removal failed')),
  );
  const regions = new Map<string, number>();
  const gateway = openGateway(req, dirs, regions);
  req.teardown.defer(() => gateway.close());
  await gateway.listen(dirs.gatewaySocket);
  const { containerId, output, exit } = await startContainer(req, dirs);
  const registered = await waitForRegister(req, gateway, output, exit);
  // The runner listens on plugin.sock before it registers.
  const client = new PluginClient(await pinPluginSocket(dirs, config.sandboxUid), req.manifest.id);
  req.teardown.defer(async () => {
    // A plugin that crashed or hung does not answer: its container is removed next either way.
    await client
      .lifecycle('SHUTDOWN', SHUTDOWN_TIMEOUT_MS)
      .catch((err: unknown) => req.log.debug({ err }, 'SHUTDOWN not answered; removing the container'));
    client.close();
  });
  const sdkProtocolVersion = registered.sdk_protocol_version || null;
  return { containerId, dirs, client, output, regions, sdkProtocolVersion, exit };
}

function openGateway(req: LaunchRequest, dirs: PluginDirectories, regions: Map<string, number>): PolicyGateway {
  const { ctx, tenant, manifest } = req;
  const { shmDir } = dirs;
  const maxBytes = manifest.sandbox.shmMb * MIB;
  const views = new SharedMemoryViews(shmDir, maxBytes);
  return new PolicyGateway({
    identity: {
      tenant: tenant.id,
      pluginId: manifest.id,
      instanceId: req.instanceId,
      certificateFingerprint: req.verified.signer?.fingerprint ?? '',
    },
    manifest,
    granted: new Set(manifest.permissions),
    tokens: ctx.tokens,
    upstream: ctx.upstreamFor(tenant),
    limits: {
      ...tenant.callLimits,
      maxDeadlineMs: Math.min(tenant.callLimits.maxDeadlineMs, ctx.config.upstream.timeoutMs),
    },
    metrics: ctx.metrics,
    audit: ctx.audit,
    onSharedMemoryReady: async (name, size, withdrawn) => {
      // Only a region that is there, in this plugin's own directory, within its shm_mb.
      checkSharedMemory(shmDir, name, size, maxBytes);
      regions.set(name, size);
      await req.onSharedMemory({
        name,
        size,
        read: (into) => readSharedMemory(shmDir, name, size, maxBytes, into),
        view: (use) => views.view(name, size, use),
        withdrawn,
      });
    },
    log: req.log.child({ pluginId: manifest.id }),
  });
}

async function startContainer(
  req: LaunchRequest,
  dirs: PluginDirectories,
): Promise<{ containerId: string; output: PluginOutput; exit: Promise<ExitInfo> }> {
  const { config, runtime } = req.ctx;
  const spec = buildSandboxSpec({
    orchestratorId: config.orchestratorId,
    tenant: req.tenant.id,
    instanceId: req.instanceId,
    manifest: req.manifest,
    imageId: imageFor(req.ctx.images, req.manifest.runtime, req.ctx.config.images),
    uid: config.sandboxUid,
    gid: config.sandboxGid,
    socketDir: dirs.socketDir,
    shmDir: dirs.shmDir,
    limits: config.limits,
    health: config.supervision.containerHealth,
    ociRuntime: req.tenant.ociRuntime,
    dependenciesDir: req.dependenciesDir,
  });
  const output = new PluginOutput(
    req.log.child({ pluginId: req.manifest.id, source: 'plugin' }),
    config.limits.logLineMaxBytes,
  );
  const sandbox = await runtime.start(spec, (stream, chunk) => output.push(stream, chunk));
  req.teardown.defer(async () => {
    sandbox.output.stop();
    await runtime.remove(sandbox.id).catch((err: unknown) => req.log.error({ err }, 'container removal failed'));
  });
  const exit = runtime.waitForExit(sandbox.id).then(async (exited): Promise<ExitInfo> => {
    // Its last lines may still be on their way when the engine reports the exit.
    await sandbox.output.endedWithin(OUTPUT_DRAIN_MS);
    output.end();
    return { ...exited, logTail: output.lines() };
  });
  void exit.then(
    (exited) => {
      if (!req.teardown.begun) req.exits.onUnexpectedExit?.(exited);
    },
    // The engine stopped answering: its event stream reports that for every plugin (ENGINE_LOST).
    (err: unknown) => req.log.debug({ err }, 'lost track of the container; the engine events report it'),
  );
  return { containerId: sandbox.id, output, exit };
}

async function waitForRegister(
  req: LaunchRequest,
  gateway: PolicyGateway,
  output: PluginOutput,
  exit: Promise<ExitInfo>,
): Promise<PluginRegisterRequest> {
  const timeoutMs = req.ctx.config.startTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new PluginStartFailure('TIMEOUT', `did not register within ${timeoutMs} ms${output.describeTail()}`)),
      timeoutMs,
    );
  });
  const died = exit.then((exited) => {
    throw new PluginStartFailure(
      'INTERNAL_ERROR',
      `${describeExit(exited)} before registering${output.describeTail()}`,
    );
  });
  try {
    return await Promise.race([gateway.registered, timeout, died]);
  } finally {
    clearTimeout(timer);
    // The race has settled; a later exit is the exit listener's to report, not an unhandled rejection.
    died.catch(() => undefined);
  }
}
