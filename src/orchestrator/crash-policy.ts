/** What supervision decides after a failure. */
export type CrashDecision = { restart: false; crashes: number } | { restart: true; crashes: number; delayMs: number };

export interface CrashPolicySettings {
  restartInitialMs: number;
  restartMaxMs: number;
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
}

/**
 * Crash restarts: exponential backoff (initial × 2^(n-1), capped) with jitter in its upper half,
 * so that plugins that crashed together do not restart together; `crashLoopRestarts` failures
 * within `crashLoopWindowMs` is a crash loop, and restarting stops.
 */
export class CrashPolicy {
  private readonly settings: CrashPolicySettings;
  private readonly random: () => number;
  private crashes: number[] = [];

  constructor(settings: CrashPolicySettings, random: () => number = Math.random) {
    this.settings = settings;
    this.random = random;
  }

  /** Records a failure at `now` and decides. */
  onFailure(now: number): CrashDecision {
    const { crashLoopWindowMs, crashLoopRestarts, restartInitialMs, restartMaxMs } = this.settings;
    this.crashes = [...this.crashes.filter((t) => now - t < crashLoopWindowMs), now];
    const crashes = this.crashes.length;
    if (crashes >= crashLoopRestarts) return { restart: false, crashes };
    const base = Math.min(restartMaxMs, restartInitialMs * 2 ** (crashes - 1));
    return { restart: true, crashes, delayMs: Math.round(base / 2 + this.random() * (base / 2)) };
  }
}
