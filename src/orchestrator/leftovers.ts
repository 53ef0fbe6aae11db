import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxConfig } from '../config/index.ts';
import { PARTIAL_DIR } from '../dependencies/index.ts';
import type { Logger } from '../logging/index.ts';
import { reapPluginDirectories, removeEmptyShmBase, type DockerSandboxRuntime } from '../sandbox/index.ts';
import { directoryRoots } from './instance-context.ts';

/** Scratch directories under the state directory that only the process that made them uses. */
const STATE_SCRATCH_DIRS = ['bundles', 'unpacked', 'discover', PARTIAL_DIR];

/**
 * Removes every container labelled as made by this orchestrator (in parallel: each may take the
 * engine's stop grace period) and every instance's socket and shm directory. Used at start, for
 * what an earlier run left behind, and as the last resort of a shutdown that ran out of time.
 */
export async function removeLeftovers(
  runtime: DockerSandboxRuntime,
  config: SandboxConfig,
  log: Logger,
): Promise<{ containers: number; directories: number }> {
  const containers = await runtime.listManaged(config.orchestratorId);
  const removals = await Promise.allSettled(
    containers.map(async (container) => {
      log.warn({ containerId: container.id, name: container.name }, 'removing a container not disabled in order');
      await runtime.remove(container.id);
    }),
  );
  const directories = await reapPluginDirectories(directoryRoots(config), log);
  await removeEmptyShmBase(directoryRoots(config));
  const failed = removals.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length > 0) {
    throw new AggregateError(
      failed,
      `${failed.length} of ${containers.length} leftover containers could not be removed`,
    );
  }
  return { containers: containers.length, directories };
}

/**
 * At start: removes what an earlier run of this orchestrator left behind (containers, sockets,
 * shm directories) and its scratch copies of plugins (snapshots, unpacked archives).
 */
export async function reapLeftovers(runtime: DockerSandboxRuntime, config: SandboxConfig, log: Logger): Promise<void> {
  const { containers, directories } = await removeLeftovers(runtime, config, log);
  for (const kind of STATE_SCRATCH_DIRS) {
    await rm(path.join(config.stateDir, config.orchestratorId, kind), { recursive: true, force: true });
  }
  if (containers + directories > 0) log.info({ containers, directories }, 'leftovers removed');
}
