import type { z } from 'zod';
import { SandboxError } from '../errors/index.ts';
import type { Permission } from '../manifest/index.ts';
import { nestsDeeperThan } from './json-depth.ts';
import { PAYLOAD_SCHEMAS as S } from './payload-schemas.ts';
import type { ResultType } from './result-types.ts';

/**
 * Deepest nesting of arrays and objects a payload may have: far beyond any real data, far below
 * what the recursive JSON.stringify of the host's Redis serialisation can take.
 */
export const MAX_PAYLOAD_DEPTH = 64;

export interface HostApi {
  /** The permission a plugin must hold; `null` for its own data and logging. */
  permission: Permission | null;
  schema: z.ZodType;
  /** What a success carries, as a language-neutral type name (see RESULT_TYPES). */
  result: ResultType;
}

/**
 * Every host API a plugin may call, by its wire `api_name`, with the permission it needs, the
 * shape of its JSON payload and what it answers. The gateway checks the first two before anything
 * is forwarded; the host's handlers take the payload typed by its schema; every SDK's method table
 * is checked against this list, exported as JSON (src/protocol/generated/contract.json).
 */
export const HOST_APIS = {
  get_courses: { permission: 'read:courses', schema: S.getCourses, result: 'Course[]' },
  get_course: { permission: 'read:courses', schema: S.courseId, result: 'Course' },
  add_course: { permission: 'modify:courses', schema: S.addCourse, result: 'integer' },
  update_course: { permission: 'modify:courses', schema: S.updateCourse, result: 'Course' },
  delete_course: { permission: 'modify:courses', schema: S.courseId, result: 'boolean' },
  add_courses_batch: { permission: 'modify:courses', schema: S.addCoursesBatch, result: 'integer[]' },
  get_schedule_for_week: { permission: 'read:schedules', schema: S.week, result: 'WeekSchedule' },
  get_current_week: { permission: 'read:schedules', schema: S.empty, result: 'integer' },
  check_conflicts: { permission: 'read:schedules', schema: S.checkConflicts, result: 'ScheduleEntry[]' },
  add_schedule_entry: { permission: 'modify:schedules', schema: S.addScheduleEntry, result: 'integer' },
  delete_schedule_entry: { permission: 'modify:schedules', schema: S.entryId, result: 'boolean' },
  emit_event: { permission: 'emit:events', schema: S.emitEvent, result: 'boolean' },
  get_setting: { permission: 'access:settings', schema: S.settingKey, result: 'string?' },
  set_setting: { permission: 'access:settings', schema: S.setSetting, result: 'boolean' },
  get_all_settings: { permission: 'access:settings', schema: S.empty, result: 'map<string,string>' },
  get_plugin_data: { permission: null, schema: S.dataKey, result: 'json?' },
  set_plugin_data: { permission: null, schema: S.setData, result: 'boolean' },
  delete_plugin_data: { permission: null, schema: S.dataKey, result: 'boolean' },
  log_info: { permission: null, schema: S.log, result: 'boolean' },
  log_warning: { permission: null, schema: S.log, result: 'boolean' },
  log_error: { permission: null, schema: S.log, result: 'boolean' },
  log_debug: { permission: null, schema: S.log, result: 'boolean' },
  /** Answered by the gateway itself: the region is in the plugin's own shm directory. */
  notify_shared_memory_ready: { permission: null, schema: S.sharedMemory, result: 'boolean' },
} as const satisfies Record<string, HostApi>;

export type HostApiName = keyof typeof HOST_APIS;

export function findHostApi(apiName: string): HostApi | undefined {
  return Object.hasOwn(HOST_APIS, apiName) ? HOST_APIS[apiName as HostApiName] : undefined;
}

/**
 * Decodes and validates a payload for `apiName`. An empty payload means `{}`. Throws
 * INVALID_REQUEST naming the API and the field, or the nesting limit (checked before parsing).
 */
export function parsePayload(apiName: string, api: HostApi, payload: Uint8Array): unknown {
  let json: unknown = {};
  if (nestsDeeperThan(payload, MAX_PAYLOAD_DEPTH)) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `${apiName}: payload has arrays or objects nesting deeper than ${MAX_PAYLOAD_DEPTH} levels, the maximum; send flatter data`,
    );
  }
  if (payload.length > 0) {
    try {
      json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    } catch (err) {
      throw new SandboxError('INVALID_REQUEST', `${apiName}: payload is not valid JSON (${(err as Error).message})`);
    }
  }
  const result = api.schema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = ['payload', ...issue.path].join('.');
    if (issue.code === 'unrecognized_keys') return `${field}: unknown field(s) ${issue.keys.join(', ')}`;
    if (issue.code === 'invalid_type' && issue.input === undefined) return `${field}: is required`;
    return `${field}: ${issue.message}`;
  });
  throw new SandboxError('INVALID_REQUEST', `${apiName}: ${issues.join('; ')}`);
}

/** Which permission lets a plugin receive a system event; plugin-emitted events need none. */
export const SYSTEM_EVENT_PERMISSIONS: Readonly<Record<string, Permission>> = {
  course_update: 'read:courses',
  schedule_update: 'read:schedules',
  week_changed: 'read:schedules',
  setting_update: 'access:settings',
};

export const SYSTEM_SOURCE = 'system';

/**
 * The name a plugin's event is delivered under: namespaced by its source, `<plugin id>/<name>`, so
 * that it can never pass for a system event or for another plugin's event.
 */
export function pluginEventName(sourcePluginId: string, name: string): string {
  return `${sourcePluginId}/${name}`;
}

/** Whether `eventName` lies in the namespace of `sourcePluginId`. */
export function isInNamespaceOf(sourcePluginId: string, eventName: string): boolean {
  return eventName.startsWith(`${sourcePluginId}/`);
}

/** The payload a handler of `N` receives: its schema's output, after parsePayload validated it. */
export type HostApiPayload<N extends HostApiName> = z.output<(typeof HOST_APIS)[N]['schema']>;
