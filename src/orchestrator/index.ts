export { Orchestrator } from './orchestrator.ts';
export { PluginInstance, type PluginStatus } from './plugin-instance.ts';
export type { PluginState, StateTransition } from './plugin-state.ts';
