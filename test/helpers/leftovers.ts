import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { SandboxConfig } from '../../src/config/index.ts';
import type { DockerSandboxRuntime } from '../../src/sandbox/index.ts';

/**
 * What an orchestrator left behind: its containers, its instances' socket directories and the
 * host-only links to their plugin sockets, and their shm directories.
 */
export async function leftovers(config: SandboxConfig, runtime: DockerSandboxRuntime) {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name !== 'host.sock') : []);
  return {
    containers: (await runtime.listManaged(config.orchestratorId)).map((c) => c.name),
    socketDirs: list(path.join(config.runtimeDir, config.orchestratorId)).filter((name) => !name.endsWith('.sock')),
    socketLinks: list(path.join(config.runtimeDir, config.orchestratorId)).filter((name) =>
      name.endsWith('.plugin.sock'),
    ),
    shmDirs: list(path.join(config.shmDir, config.orchestratorId)),
  };
}
