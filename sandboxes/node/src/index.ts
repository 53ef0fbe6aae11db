export { Plugin, type PluginState, type ExportedFunction } from './plugin.ts';
export { PluginAPI, type Course, type NewCourse, type ScheduleEntry, type WeekSchedule } from './plugin-api.ts';
export { PluginApiError, PermissionDeniedError, PluginLoadError, type PluginErrorCode } from './errors.ts';
export { ANY_EVENT, type ReceivedEvent, type EventListener } from './event-subscription.ts';
export { SharedMemory } from './shared-memory.ts';
