import { realpathSync } from 'node:fs';
import path from 'node:path';
import { SandboxError } from '../errors/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import type { ContainerEnvName } from '../protocol/index.ts';
import { LABELS } from './labels.ts';

/** Where things are inside every plugin container. */
export const CONTAINER_PATHS = {
  plugin: '/plugin',
  socketDir: '/run/classtop',
  gatewaySocket: '/run/classtop/gateway.sock',
  pluginSocket: '/run/classtop/plugin.sock',
  shm: '/dev/shm',
  tmp: '/tmp',
  /** The plugin's resolved dependencies (src/dependencies), read-only. */
  dependencies: '/opt/classtop/dependencies',
} as const;

const MIB = 1024 * 1024;
const NANO_CPUS_PER_CPU = 1e9;

/** Timings of the image's HEALTHCHECK for this container; what is left out stays the image's. */
export interface HealthTimings {
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  retries?: number;
}

export interface SandboxMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Everything needed to create one plugin container; every security control is explicit here. */
export interface SandboxSpec {
  name: string;
  image: string;
  user: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  mounts: SandboxMount[];
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  nofile: number;
  nproc: number;
  tmpBytes: number;
  logMaxBytes: number;
  health: HealthTimings;
  ociRuntime: string | undefined;
  /** A one-shot command instead of the image's entry (and then no health probe); the runner when absent. */
  command?: string[];
}

export interface SandboxSpecInput {
  orchestratorId: string;
  tenant: string;
  instanceId: string;
  manifest: PluginManifest;
  imageId: string;
  uid: number;
  gid: number;
  socketDir: string;
  shmDir: string;
  limits: { nofile: number; nproc: number; logMaxBytes: number };
  health?: HealthTimings;
  ociRuntime: string | undefined;
  /** Host directory of the plugin's resolved dependencies (src/dependencies); null when none. */
  dependenciesDir?: string | null;
}

/** Paths that are never mounted into a plugin, whatever a manifest says. */
const FORBIDDEN_SOURCES = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var',
];

export function buildSandboxSpec(input: SandboxSpecInput): SandboxSpec {
  const { manifest, tenant, instanceId } = input;
  const mounts: SandboxMount[] = [
    { source: manifest.directory, target: CONTAINER_PATHS.plugin, readOnly: true },
    { source: input.socketDir, target: CONTAINER_PATHS.socketDir, readOnly: false },
    { source: input.shmDir, target: CONTAINER_PATHS.shm, readOnly: false },
    ...manifest.sandbox.paths.map((p) => ({
      source: p.hostPath,
      target: path.posix.join(CONTAINER_PATHS.plugin, p.relative),
      readOnly: p.readOnly,
    })),
    ...(input.dependenciesDir
      ? [{ source: input.dependenciesDir, target: CONTAINER_PATHS.dependencies, readOnly: true }]
      : []),
  ];
  for (const mount of mounts) assertSafeSource(mount.source, manifest.id);

  return {
    name: containerName(input.orchestratorId, tenant, manifest.id, instanceId),
    image: input.imageId,
    user: `${input.uid}:${input.gid}`,
    env: {
      // Exactly the variables of the container environment contract (src/protocol/container-env.ts).
      ...({
        CLASSTOP_PLUGIN_ID: manifest.id,
        CLASSTOP_PLUGIN_NAME: manifest.name,
        CLASSTOP_PLUGIN_VERSION: manifest.version,
        CLASSTOP_PLUGIN_PERMISSIONS: manifest.permissions.join(','),
        CLASSTOP_PLUGIN_ENTRY: path.posix.join(CONTAINER_PATHS.plugin, manifest.entry),
        CLASSTOP_PLUGIN_CERTIFICATE: path.posix.join(CONTAINER_PATHS.plugin, manifest.certificate.path),
        CLASSTOP_GATEWAY_SOCKET: CONTAINER_PATHS.gatewaySocket,
        CLASSTOP_PLUGIN_SOCKET: CONTAINER_PATHS.pluginSocket,
        CLASSTOP_TENANT: tenant,
        CLASSTOP_DEPENDENCIES_DIR: input.dependenciesDir ? CONTAINER_PATHS.dependencies : '',
      } satisfies Record<ContainerEnvName, string>),
      NODE_ENV: 'production',
    },
    labels: {
      [LABELS.managed]: 'true',
      [LABELS.orchestrator]: input.orchestratorId,
      [LABELS.tenant]: tenant,
      [LABELS.pluginId]: manifest.id,
      [LABELS.pluginVersion]: manifest.version,
      [LABELS.instance]: instanceId,
    },
    mounts,
    memoryBytes: manifest.sandbox.memoryMb * MIB,
    nanoCpus: Math.round(manifest.sandbox.cpus * NANO_CPUS_PER_CPU),
    pidsLimit: manifest.sandbox.pids,
    nofile: input.limits.nofile,
    nproc: input.limits.nproc,
    tmpBytes: manifest.sandbox.tmpMb * MIB,
    logMaxBytes: input.limits.logMaxBytes,
    health: input.health ?? {},
    ociRuntime: input.ociRuntime,
  };
}

/** A container name unique per instance and readable in `docker ps`. */
function containerName(orchestratorId: string, tenant: string, pluginId: string, instanceId: string): string {
  return `classtop-${orchestratorId}-${tenant}-${pluginId.replaceAll('.', '-')}-${instanceId}`.slice(0, 200);
}

/** Sources must be canonical (no symlink on the way), never a system directory or Docker's socket. */
function assertSafeSource(source: string, pluginId: string): void {
  let real: string;
  try {
    real = realpathSync(source);
  } catch (err) {
    throw new SandboxError('INVALID_REQUEST', `${pluginId}: mount source ${source} does not exist`, { cause: err });
  }
  if (real !== path.resolve(source)) {
    throw new SandboxError(
      'PERMISSION_DENIED',
      `${pluginId}: mount source ${source} is reached through a symlink (${real}); refusing`,
    );
  }
  if (FORBIDDEN_SOURCES.includes(real) || path.basename(real) === 'docker.sock') {
    throw new SandboxError('PERMISSION_DENIED', `${pluginId}: mount source ${real} is a system path; refusing`);
  }
}
