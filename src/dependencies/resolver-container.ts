import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Logger } from '../logging/index.ts';
import { LABELS, type DockerSandboxRuntime, type SandboxSpec } from '../sandbox/index.ts';
import { DependencyError } from './dependency-error.ts';

/** Limits of the one-shot resolver container: pip unpacking a few wheels needs little. */
const RESOLVER_MEMORY_BYTES = 256 * 1024 * 1024;
const RESOLVER_NANO_CPUS = 1e9;
const RESOLVER_PIDS = 32;
const RESOLVER_TMP_BYTES = 64 * 1024 * 1024;
const RESOLVER_LOG_BYTES = 256 * 1024;
/** Longer than classtop.deps' own pip timeout (120 s), so its report says why first. */
export const RESOLVER_TIMEOUT_MS = 150_000;
/** How long the exit waits for the last of the output. */
const OUTPUT_DRAIN_MS = 2_000;
/** The output kept for an error message. */
const OUTPUT_KEEP_CHARS = 2_000;

/** Where things are inside the resolver container. */
export const RESOLVER_PATHS = { wheels: '/wheels', out: '/out' } as const;

export interface ResolverRun {
  orchestratorId: string;
  tenant: string;
  pluginId: string;
  pluginVersion: string;
  imageId: string;
  user: string;
  requirements: readonly string[];
  /** The bundle's wheels/ directory in the verified snapshot; absent when it carries none. */
  wheelsDir: string;
  /** The scratch directory the container writes its report and site-packages into. */
  outDir: string;
  limits: { nofile: number; nproc: number };
  ociRuntime: string | undefined;
}

/**
 * Runs `python3 -m classtop.deps` once in the plugin's image, with every control of a plugin
 * container (no network, read-only root, non-root, no capabilities, limits), the bundle's wheels
 * read-only and only `outDir` writable; removes the container whatever happens. Resolves with
 * its exit code and the tail of its output.
 */
export async function runResolver(
  runtime: DockerSandboxRuntime,
  run: ResolverRun,
  log: Logger,
): Promise<{ exitCode: number; output: string }> {
  const spec = resolverSpec(run);
  let output = '';
  const sandbox = await runtime.start(spec, (_stream, chunk) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP_CHARS);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new DependencyError(
              'DEPENDENCY_RESOLUTION_FAILED',
              `${run.pluginId}: resolving python_packages did not finish within ${RESOLVER_TIMEOUT_MS} ms`,
            ),
          ),
        RESOLVER_TIMEOUT_MS,
      );
    });
    const exit = await Promise.race([runtime.waitForExit(sandbox.id), timeout]);
    await sandbox.output.endedWithin(OUTPUT_DRAIN_MS);
    log.debug({ exitCode: exit.exitCode, oomKilled: exit.oomKilled }, 'dependency resolver exited');
    return { exitCode: exit.oomKilled ? -1 : exit.exitCode, output: output.trim() };
  } finally {
    clearTimeout(timer);
    sandbox.output.stop();
    await runtime.remove(sandbox.id);
  }
}

function resolverSpec(run: ResolverRun): SandboxSpec {
  const instance = `deps-${randomBytes(6).toString('hex')}`;
  const hasWheels = existsSync(run.wheelsDir);
  return {
    name: `classtop-${run.orchestratorId}-${run.tenant}-${run.pluginId.replaceAll('.', '-')}-${instance}`.slice(0, 200),
    image: run.imageId,
    user: run.user,
    // pip reads no user configuration (--isolated) and writes nothing under HOME: /tmp is the tmpfs.
    env: { HOME: '/tmp', PYTHONDONTWRITEBYTECODE: '1' },
    labels: {
      [LABELS.managed]: 'true',
      [LABELS.orchestrator]: run.orchestratorId,
      [LABELS.tenant]: run.tenant,
      [LABELS.pluginId]: run.pluginId,
      [LABELS.pluginVersion]: run.pluginVersion,
      [LABELS.instance]: instance,
    },
    mounts: [
      ...(hasWheels ? [{ source: run.wheelsDir, target: RESOLVER_PATHS.wheels, readOnly: true }] : []),
      { source: run.outDir, target: RESOLVER_PATHS.out, readOnly: false },
    ],
    memoryBytes: RESOLVER_MEMORY_BYTES,
    nanoCpus: RESOLVER_NANO_CPUS,
    pidsLimit: RESOLVER_PIDS,
    nofile: run.limits.nofile,
    nproc: run.limits.nproc,
    tmpBytes: RESOLVER_TMP_BYTES,
    logMaxBytes: RESOLVER_LOG_BYTES,
    health: {},
    ociRuntime: run.ociRuntime,
    command: [
      '/usr/bin/python3',
      '-I',
      '-B',
      '-m',
      'classtop.deps',
      '--wheels',
      RESOLVER_PATHS.wheels,
      '--target',
      `${RESOLVER_PATHS.out}/site-packages`,
      '--report',
      `${RESOLVER_PATHS.out}/report.json`,
      '--',
      ...run.requirements,
    ],
  };
}
