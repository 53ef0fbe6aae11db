export { Orchestrator } from './orchestrator.ts';
export { ManagedPlugin, type PluginStatus } from './managed-plugin.ts';
export type { SharedMemoryRegion } from './plugin-instance.ts';
