export { canTransition, type PluginState, type StateTransition } from './plugin-state.ts';
export { PluginStateStore, type StoredPluginState } from './plugin-state-store.ts';
export { PluginLock } from './plugin-lock.ts';
export {
  LifecycleQueue,
  LIFECYCLE_ACTIONS,
  PermanentJobFailure,
  PluginBusy,
  type LifecycleAction,
  type LifecycleJobData,
  type JobView,
  type JobProgress,
  type QueueSettings,
} from './lifecycle-queue.ts';
