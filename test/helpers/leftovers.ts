import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { SandboxConfig } from '../../src/config/index.ts';
import type { DockerSandboxRuntime } from '../../src/sandbox/index.ts';

/** What an orchestrator left behind: its containers, instance socket dirs and shm dirs. */
export async function leftovers(config: SandboxConfig, runtime: DockerSandboxRuntime) {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name !== 'host.sock') : []);
  return {
    containers: (await runtime.listManaged(config.orchestratorId)).map((c) => c.name),
    socketDirs: list(path.join(config.runtimeDir, config.orchestratorId)),
    shmDirs: list(path.join(config.shmDir, config.orchestratorId)),
  };
}
