export { Orchestrator } from './orchestrator.ts';
export { ManagedPlugin } from './managed-plugin.ts';
export type { PluginStatus } from './plugin-status.ts';
export type { SharedMemoryRegion } from './shared-memory-region.ts';
