import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import type { SandboxMetrics } from '../metrics/index.ts';
import type { Upstream } from '../upstream/index.ts';
import type { AuditLog } from './audit-log.ts';
import type { SessionIdentity, SessionTokens } from './session-tokens.ts';

export interface GatewayOptions {
  identity: SessionIdentity;
  manifest: PluginManifest;
  /** Permissions this instance holds: the manifest's, as allowed by its tenant. */
  granted: ReadonlySet<string>;
  tokens: SessionTokens;
  upstream: Upstream;
  limits: CallLimits;
  /**
   * The plugin announced a region in its shm directory (notify_shared_memory_ready). `withdrawn`
   * aborts if the plugin cancels the announcement or its deadline passes first.
   */
  onSharedMemoryReady: (name: string, size: number, withdrawn: AbortSignal) => Promise<void>;
  metrics: SandboxMetrics;
  audit: AuditLog;
  log: Logger;
}

export interface CallLimits {
  callsPerSecond: number;
  burst: number;
  maxConcurrentCalls: number;
  maxStreams: number;
  maxMessageBytes: number;
  maxMetadataBytes: number;
  /** Largest deadline forwarded upstream, and the deadline of a call that has none. */
  maxDeadlineMs: number;
  /** Shortest interval between the plugin's HTTP/2 pings (keepalive enforcement). */
  minPingIntervalMs: number;
}
