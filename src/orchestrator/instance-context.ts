import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import type { AuditLog, SessionTokens } from '../gateway/index.ts';
import type { Upstream } from '../upstream/index.ts';
import type { Logger } from '../logging/index.ts';
import type { SandboxMetrics } from '../metrics/index.ts';
import type { DirectoryRoots, DockerSandboxRuntime } from '../sandbox/index.ts';
import type { RuntimeImages } from './runtime-images.ts';

/** What the orchestrator shares with every instance. */
export interface InstanceContext {
  config: SandboxConfig;
  runtime: DockerSandboxRuntime;
  /** The host a tenant's calls go to: its own, or the orchestrator's. */
  upstreamFor: (tenant: TenantConfig) => Upstream;
  tokens: SessionTokens;
  images: RuntimeImages;
  metrics: SandboxMetrics;
  audit: AuditLog;
  log: Logger;
}

/** Where this orchestrator's instances keep their sockets and shm directories. */
export function directoryRoots(config: SandboxConfig): DirectoryRoots {
  return {
    runtimeDir: config.runtimeDir,
    shmRoot: config.shmDir,
    orchestratorId: config.orchestratorId,
    uid: config.sandboxUid,
    gid: config.sandboxGid,
  };
}
