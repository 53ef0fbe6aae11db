import type { PluginState, StateTransition } from '../lifecycle/index.ts';
import type { CachedState } from './plugin-record.ts';
import type { StartedPluginInstance } from './started-plugin-instance.ts';

/** One plugin's public status (admin API, `status`). */
export interface PluginStatus {
  tenant: string;
  id: string;
  version: string | null;
  directory: string;
  instanceId: string | null;
  state: PluginState;
  containerId: string | null;
  permissions: readonly string[];
  /** Who signed the running bundle; null when unsigned (only where the tenant allows it) or not running. */
  signer: { subject: string; serial: string; fingerprint: string } | null;
  signed: boolean;
  lastTransition: StateTransition | null;
  lastError: string | null;
  /** Machine-readable reason of the last error: a trust reason, CRASHED, CRASH_LOOP, START_FAILED, ENGINE_LOST. */
  reason: string | null;
  restarts: number;
  /** The orchestrator process that runs it (or last ran it). */
  owner: string | null;
  /** The protocol version the running plugin's SDK stated at Register; null if none or not running. */
  sdkProtocolVersion: string | null;
}

/** What a status is made of: the plugin, the instance that runs here (if any), its recorded state. */
export interface StatusParts {
  tenant: string;
  pluginId: string;
  source: string;
  permissions: readonly string[];
  running: StartedPluginInstance | undefined;
  recorded: Readonly<CachedState>;
  restarts: number;
}

export function describeStatus(parts: StatusParts): PluginStatus {
  const { running, recorded } = parts;
  const signer = running?.verified.signer;
  return {
    tenant: parts.tenant,
    id: parts.pluginId,
    version: recorded.version,
    directory: parts.source,
    instanceId: running?.instanceId ?? null,
    state: recorded.state,
    containerId: running?.containerId ?? null,
    permissions: parts.permissions,
    signer: signer ? { subject: signer.subject, serial: signer.serial, fingerprint: signer.fingerprint } : null,
    signed: Boolean(signer),
    lastTransition: recorded.lastTransition,
    lastError: recorded.lastError,
    reason: recorded.reason,
    restarts: parts.restarts,
    owner: recorded.owner,
    sdkProtocolVersion: running?.sdkProtocolVersion ?? null,
  };
}
