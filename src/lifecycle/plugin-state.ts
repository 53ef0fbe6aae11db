/** The specification's plugin states. */
export type PluginState = 'DISCOVERED' | 'LOADED' | 'INITIALIZED' | 'ENABLED' | 'DISABLED' | 'RELOADING' | 'ERROR';

/**
 * Allowed transitions: the specification's table ("状态转换"), any state → ERROR, and the ways back
 * that an orchestrator needs: DISABLED or ERROR → LOADED (enable again, restart), and
 * RELOADING → ENABLED (a reload that failed keeps the old version serving).
 */
const NEXT: Record<PluginState, readonly PluginState[]> = {
  DISCOVERED: ['LOADED'],
  LOADED: ['INITIALIZED', 'DISABLED'],
  INITIALIZED: ['ENABLED'],
  ENABLED: ['DISABLED', 'RELOADING'],
  DISABLED: ['LOADED'],
  RELOADING: ['INITIALIZED', 'ENABLED'],
  ERROR: ['LOADED', 'DISABLED'],
};

export interface StateTransition {
  from: PluginState;
  to: PluginState;
  at: string;
  reason: string;
}

export function canTransition(from: PluginState, to: PluginState): boolean {
  return to === 'ERROR' || NEXT[from].includes(to);
}
