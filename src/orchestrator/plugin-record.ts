import { DependencyError } from '../dependencies/index.ts';
import type { PluginState, PluginStateStore, StateTransition, StoredPluginState } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { TrustError } from '../trust/index.ts';

/** States in which Redis says the plugin runs somewhere. */
const RUNNING_STATES: readonly PluginState[] = ['LOADED', 'INITIALIZED', 'ENABLED', 'RELOADING'];

/** An error as the state store keeps it: its message, and a reason a machine can branch on. */
export interface RecordedError {
  message: string;
  reason: string | null;
}

/** A trust or dependency refusal keeps its own reason (CERT_REVOKED, DEPENDENCY_UNSATISFIED, …); anything else gets `fallback`. */
export function recordedError(err: unknown, fallback: string | null): RecordedError {
  const message = err instanceof Error ? err.message : String(err);
  const own = err instanceof TrustError || err instanceof DependencyError;
  return { message, reason: own ? err.reason : fallback };
}

/** The state as last read from or written to Redis. */
export type CachedState = Omit<StoredPluginState, 'version'> & { version: string | null };

/**
 * One plugin's state machine record: every transition goes to the state store in Redis (which
 * refuses an illegal one), and the last one is cached here for `status`.
 */
export class PluginRecord {
  private readonly store: PluginStateStore;
  private readonly owner: string;
  private readonly tenant: string;
  private readonly pluginId: string;
  private readonly log: Logger;
  private cached: CachedState;

  constructor(
    store: PluginStateStore,
    who: { owner: string; tenant: string; pluginId: string },
    version: string,
    log: Logger,
  ) {
    this.store = store;
    this.owner = who.owner;
    this.tenant = who.tenant;
    this.pluginId = who.pluginId;
    this.log = log;
    this.cached = { state: 'DISCOVERED', lastTransition: null, lastError: null, reason: null, version, owner: null };
  }

  get current(): Readonly<CachedState> {
    return this.cached;
  }

  /** Reads what another process may have changed. */
  read(): Promise<StoredPluginState> {
    return this.store.get(this.tenant, this.pluginId);
  }

  /**
   * Brings the cached state in line with Redis at start-up. A plugin Redis still shows as running
   * belonged to an orchestrator process that died without disabling it: its container was reaped
   * (its gateway and sessions died with that process, so it cannot be re-adopted), and it is
   * recorded as such before it is started again.
   */
  async adopt(fallbackVersion: string, isAlive: (owner: string) => Promise<boolean>): Promise<void> {
    const stored = await this.read();
    this.load(stored, fallbackVersion);
    const ownerGone = stored.owner === this.owner || stored.owner === null || !(await isAlive(stored.owner));
    if (RUNNING_STATES.includes(stored.state) && ownerGone) {
      const message = `was ${stored.state} under orchestrator '${stored.owner ?? 'unknown'}', which stopped without disabling it; restarting it (its gateway and sessions ended with that process)`;
      await this.transition('ERROR', message, { error: { message, reason: 'ORCHESTRATOR_RESTARTED' } });
    }
  }

  /** Takes `stored` as the cached state, keeping `fallbackVersion` where Redis has none. */
  load(stored: StoredPluginState, fallbackVersion: string | null): void {
    this.cached = { ...stored, version: stored.version ?? fallbackVersion };
  }

  /** Records a failure to start (or a revoked certificate) as ERROR with its reason. */
  async fail(err: unknown): Promise<void> {
    const error = recordedError(err, 'START_FAILED');
    await this.transition('ERROR', error.message, { error });
  }

  async transition(
    to: PluginState,
    reason: string,
    extra: { version?: string | undefined; error?: RecordedError } = {},
  ): Promise<void> {
    const { error } = extra;
    const owner = to === 'DISABLED' ? null : this.owner;
    const transition: StateTransition = await this.store.transition(this.tenant, this.pluginId, to, reason, {
      ...(extra.version ? { version: extra.version } : {}),
      ...(error ? { error } : {}),
      owner,
    });
    this.log.info({ from: transition.from, to, reason }, 'state changed');
    const cleared = to === 'ENABLED';
    this.cached = {
      state: to,
      lastTransition: transition,
      lastError: error ? error.message : cleared ? null : this.cached.lastError,
      reason: error ? error.reason : cleared ? null : this.cached.reason,
      version: extra.version ?? this.cached.version,
      owner,
    };
  }
}
