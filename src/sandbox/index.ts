export {
  DockerSandboxRuntime,
  type ContainerUsage,
  type StartedSandbox,
  type ManagedContainer,
} from './docker-sandbox-runtime.ts';
export { buildSandboxSpec, CONTAINER_PATHS, type SandboxSpec, type SandboxMount } from './sandbox-spec.ts';
export {
  createPluginDirectories,
  removePluginDirectories,
  pinPluginSocket,
  reapPluginDirectories,
  removeEmptyShmBase,
  type PluginDirectories,
  type DirectoryRoots,
} from './plugin-directories.ts';
export { createScratchDirectory, removeScratchDirectory, type ScratchLimits } from './scratch-directory.ts';
export { LogForwarder } from './log-forwarder.ts';
export { checkSharedMemory, readSharedMemory, SharedMemoryViews } from './shared-memory-region.ts';
export { LABELS } from './labels.ts';
export { EngineEvents, type EngineEventHandlers } from './engine-events.ts';
