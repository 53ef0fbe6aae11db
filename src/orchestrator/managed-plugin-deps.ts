import type { TenantConfig } from '../config/index.ts';
import type { PluginStateStore } from '../lifecycle/index.ts';
import type { InstanceContext } from './instance-context.ts';
import type { SupervisionSettings } from './plugin-supervisor.ts';

/** A managed plugin as its orchestrator's callbacks see it. */
export interface PluginIdentity {
  readonly tenant: TenantConfig;
  readonly pluginId: string;
  /** The sandbox resources it asks for (the quota counts these). */
  readonly sandbox: { memoryMb: number; cpus: number };
}

/** What every ManagedPlugin gets from its orchestrator. */
export interface ManagedPluginDeps {
  ctx: InstanceContext;
  store: PluginStateStore;
  owner: string;
  supervision: SupervisionSettings;
  /** Throws when starting the plugin would exceed its tenant's quota. */
  checkQuota: (plugin: PluginIdentity) => void;
  /** Whether orchestrator `id` is alive (its heartbeat is in Redis). */
  isAlive: (id: string) => Promise<boolean>;
  /** Whether the Docker engine answers; a container exit while it does not is the engine's loss, not a crash. */
  engineAnswers: () => Promise<boolean>;
  /** Submits a durable restart job after `delayMs`. */
  scheduleRestart: (plugin: PluginIdentity, delayMs: number, cause: string) => Promise<void>;
}
