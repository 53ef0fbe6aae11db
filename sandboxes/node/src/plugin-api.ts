import type { ServiceError } from '@grpc/grpc-js';
import { CallStream } from './call-stream.ts';
import { apiErrorFrom, apiErrorOf } from './errors.ts';
import { EventSubscription, type EventListener } from './event-subscription.ts';
import { TOKEN_KEY, type GatewayClient } from './gateway-client.ts';

export interface Course {
  id: number;
  name: string;
  teacher: string | null;
  location: string | null;
  color: string | null;
}

export interface NewCourse {
  name: string;
  teacher?: string | null;
  location?: string | null;
  color?: string | null;
}

export interface ScheduleEntry {
  id: number;
  course_id: number;
  day_of_week: number;
  start_time: string;
  end_time: string;
  weeks: number[];
  note: string | null;
}

/** Day "1" (Monday) to "7" (Sunday) → that day's entries. */
export type WeekSchedule = Record<string, ScheduleEntry[]>;

/**
 * The SDK's method table: each host API's wire `api_name` → the PluginAPI method that calls it, and
 * the permission it needs. plugin-api.test.ts checks it against the host API catalogue
 * (src/protocol/generated/contract.json, generated from src/host-api): an api_name missing here,
 * misnamed, or with another permission fails it.
 */
export const HOST_API_METHODS = {
  get_courses: { method: 'getCourses', permission: 'read:courses' },
  get_course: { method: 'getCourse', permission: 'read:courses' },
  add_course: { method: 'addCourse', permission: 'modify:courses' },
  update_course: { method: 'updateCourse', permission: 'modify:courses' },
  delete_course: { method: 'deleteCourse', permission: 'modify:courses' },
  add_courses_batch: { method: 'addCoursesBatch', permission: 'modify:courses' },
  get_schedule_for_week: { method: 'getScheduleForWeek', permission: 'read:schedules' },
  get_current_week: { method: 'getCurrentWeek', permission: 'read:schedules' },
  check_conflicts: { method: 'checkConflicts', permission: 'read:schedules' },
  add_schedule_entry: { method: 'addScheduleEntry', permission: 'modify:schedules' },
  delete_schedule_entry: { method: 'deleteScheduleEntry', permission: 'modify:schedules' },
  emit_event: { method: 'emitEvent', permission: 'emit:events' },
  get_setting: { method: 'getSetting', permission: 'access:settings' },
  set_setting: { method: 'setSetting', permission: 'access:settings' },
  get_all_settings: { method: 'getAllSettings', permission: 'access:settings' },
  get_plugin_data: { method: 'getPluginData', permission: null },
  set_plugin_data: { method: 'setPluginData', permission: null },
  delete_plugin_data: { method: 'deletePluginData', permission: null },
  log_info: { method: 'logInfo', permission: null },
  log_warning: { method: 'logWarning', permission: null },
  log_error: { method: 'logError', permission: null },
  log_debug: { method: 'logDebug', permission: null },
  notify_shared_memory_ready: { method: 'notifySharedMemoryReady', permission: null },
} as const satisfies Record<string, { method: keyof PluginAPI; permission: string | null }>;

export type HostApiName = keyof typeof HOST_API_METHODS;

/**
 * The host API offered to a plugin (specification "Plugin API"), in camelCase. Every method is
 * one call through the gateway, on its CallStream; failures reject with PluginApiError or
 * PermissionDeniedError.
 */
export class PluginAPI {
  private readonly timeoutMs: number;
  private readonly calls: CallStream;
  private readonly events: EventSubscription;
  private token = '';
  private readonly permissions: ReadonlySet<string>;

  constructor(client: GatewayClient, timeoutMs: number, permissions: readonly string[] = []) {
    this.timeoutMs = timeoutMs;
    this.calls = new CallStream(client, () => this.token);
    this.permissions = new Set(permissions);
    this.events = new EventSubscription(client, () => this.token);
  }

  /** Whether the plugin holds `permission` (as declared in plugin.yaml and granted at Register). */
  hasPermission(permission: string): boolean {
    return this.permissions.has(permission);
  }

  /** Set by the runner after Register. */
  setSessionToken(token: string): void {
    this.token = token;
  }

  /** Calls any host API by its wire name with a JSON payload. */
  call<T = unknown>(apiName: string, payload: Record<string, unknown> = {}): Promise<T> {
    const request = {
      api_name: apiName,
      payload: Buffer.from(JSON.stringify(payload)),
      metadata: { [TOKEN_KEY]: this.token },
    };
    return this.calls.call(request, Date.now() + this.timeoutMs).then(
      (response) => {
        if (!response.success) throw apiErrorOf(response, apiName);
        return (response.result.length > 0 ? JSON.parse(response.result.toString('utf8')) : null) as T;
      },
      (err: ServiceError) => {
        throw apiErrorFrom(err, apiName);
      },
    );
  }

  /** One host API of the method table: its api_name is checked by the compiler. */
  private invoke<T>(apiName: HostApiName, payload?: Record<string, unknown>): Promise<T> {
    return this.call<T>(apiName, payload);
  }

  // ---- courses ----
  /** Every course, or with `week` those scheduled in that week (the specification's `{"week": 1}`). */
  getCourses(week?: number): Promise<Course[]> {
    return this.invoke('get_courses', week === undefined ? {} : { week });
  }
  getCourse(courseId: number): Promise<Course> {
    return this.invoke('get_course', { course_id: courseId });
  }
  addCourse(name: string, teacher?: string | null, location?: string | null, color?: string | null): Promise<number> {
    return this.invoke('add_course', { name, teacher, location, color });
  }
  updateCourse(courseId: number, changes: Partial<NewCourse>): Promise<Course> {
    return this.invoke('update_course', { course_id: courseId, ...changes });
  }
  deleteCourse(courseId: number): Promise<boolean> {
    return this.invoke('delete_course', { course_id: courseId });
  }
  /** Adds all the courses in one round trip, all or none. */
  addCoursesBatch(courses: NewCourse[]): Promise<number[]> {
    return this.invoke('add_courses_batch', { courses });
  }

  // ---- schedule ----
  getScheduleForWeek(week: number): Promise<WeekSchedule> {
    return this.invoke('get_schedule_for_week', { week });
  }
  addScheduleEntry(
    courseId: number,
    dayOfWeek: number,
    startTime: string,
    endTime: string,
    weeks: number[] = [],
  ): Promise<number> {
    return this.invoke('add_schedule_entry', {
      course_id: courseId,
      day_of_week: dayOfWeek,
      start_time: startTime,
      end_time: endTime,
      weeks,
    });
  }
  deleteScheduleEntry(entryId: number): Promise<boolean> {
    return this.invoke('delete_schedule_entry', { entry_id: entryId });
  }
  getCurrentWeek(): Promise<number> {
    return this.invoke('get_current_week');
  }
  checkConflicts(
    dayOfWeek: number,
    startTime: string,
    endTime: string,
    weeks: number[] = [],
    excludeEntryId?: number,
  ): Promise<ScheduleEntry[]> {
    return this.invoke('check_conflicts', {
      day_of_week: dayOfWeek,
      start_time: startTime,
      end_time: endTime,
      weeks,
      exclude_entry_id: excludeEntryId,
    });
  }

  // ---- events ----
  /** Emits `eventName`; subscribers receive it as `<this plugin's id>/<eventName>`. */
  emitEvent(eventName: string, data: unknown = {}): Promise<boolean> {
    return this.invoke('emit_event', { event_name: eventName, data });
  }
  /** Listens to an event by name (`'*'` for all); the gateway delivers only what the plugin may read. */
  on(eventName: string, listener: EventListener): void {
    this.events.on(eventName, listener);
  }
  off(eventName: string, listener: EventListener): void {
    this.events.off(eventName, listener);
  }

  // ---- settings ----
  getSetting(key: string): Promise<string | null> {
    return this.invoke('get_setting', { key });
  }
  setSetting(key: string, value: string): Promise<boolean> {
    return this.invoke('set_setting', { key, value });
  }
  getAllSettings(): Promise<Record<string, string>> {
    return this.invoke('get_all_settings');
  }

  // ---- plugin private data ----
  getPluginData<T = unknown>(key: string): Promise<T | null> {
    return this.invoke('get_plugin_data', { key });
  }
  setPluginData(key: string, value: unknown): Promise<boolean> {
    return this.invoke('set_plugin_data', { key, value });
  }
  deletePluginData(key: string): Promise<boolean> {
    return this.invoke('delete_plugin_data', { key });
  }

  // ---- shared memory ----
  /** Announces a region of the plugin's /dev/shm as ready for the host (see SharedMemory). */
  notifySharedMemoryReady(name: string, size: number): Promise<boolean> {
    return this.invoke('notify_shared_memory_ready', { name, size });
  }

  // ---- logging ----
  logInfo(message: string): Promise<boolean> {
    return this.invoke('log_info', { message });
  }
  logWarning(message: string): Promise<boolean> {
    return this.invoke('log_warning', { message });
  }
  logError(message: string): Promise<boolean> {
    return this.invoke('log_error', { message });
  }
  logDebug(message: string): Promise<boolean> {
    return this.invoke('log_debug', { message });
  }

  /** Closes the call and event streams; the runner calls it on shutdown. */
  close(): void {
    this.events.close();
    this.calls.close();
  }
}
