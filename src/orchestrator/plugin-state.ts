/** The specification's plugin states. */
export type PluginState = 'DISCOVERED' | 'LOADED' | 'INITIALIZED' | 'ENABLED' | 'DISABLED' | 'RELOADING' | 'ERROR';

/** Allowed transitions (specification "状态转换"); any state may go to ERROR. */
const NEXT: Record<PluginState, readonly PluginState[]> = {
  DISCOVERED: ['LOADED'],
  LOADED: ['INITIALIZED'],
  INITIALIZED: ['ENABLED'],
  ENABLED: ['DISABLED', 'RELOADING'],
  DISABLED: ['LOADED', 'ENABLED'],
  RELOADING: ['INITIALIZED'],
  ERROR: [],
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
