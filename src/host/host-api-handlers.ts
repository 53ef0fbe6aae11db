import { SandboxError } from '../errors/index.ts';
import type { HostApiName, HostApiPayload } from '../host-api/index.ts';
import { pluginEventName, SYSTEM_EVENT_PERMISSIONS, SYSTEM_SOURCE } from '../host-api/index.ts';
import type { Logger } from '../logging/index.ts';
import type { CourseStore } from './courses.ts';
import type { EventBus } from './event-bus.ts';
import type { PluginDataStore, SettingsStore } from './key-value-store.ts';
import { currentWeek, type ScheduleStore } from './schedule.ts';

/** Who is calling: stated by the gateway from the socket the plugin's call arrived on. */
export interface CallContext {
  tenant: string;
  pluginId: string;
  instanceId: string;
}

export interface HostStores {
  courses: CourseStore;
  schedule: ScheduleStore;
  settings: SettingsStore;
  pluginData: PluginDataStore;
  events: EventBus;
  log: Logger;
}

/** A handler of `N`: its payload typed by the catalogue's schema for `N`. */
type Handler<N extends HostApiName> = (
  ctx: CallContext,
  payload: HostApiPayload<N>,
  host: HostStores,
) => Promise<unknown>;
type Handlers = { [N in HostApiName]: Handler<N> };
/** How the host calls a handler: with the payload parsePayload returned, validated by the same schema. */
type ValidatedHandler = (ctx: CallContext, payload: unknown, host: HostStores) => Promise<unknown>;

const LOG_LEVELS = { log_info: 'info', log_warning: 'warn', log_error: 'error', log_debug: 'debug' } as const;

/** The reference ClassTop host: one handler per host API. */
const HANDLERS: Handlers = {
  get_courses: async (ctx, p, host) => {
    const courses = await host.courses.list(ctx.tenant);
    if (p.week === undefined) return courses;
    const scheduled = await host.schedule.coursesInWeek(ctx.tenant, p.week);
    return courses.filter((course) => scheduled.has(course.id));
  },
  get_course: (ctx, p, host) => host.courses.get(ctx.tenant, p.course_id),
  add_course: async (ctx, p, host) => {
    const [id] = await host.courses.addMany(ctx.tenant, [p]);
    await systemEvent(host, ctx, 'course_update', { action: 'added', course_id: id });
    return id;
  },
  add_courses_batch: async (ctx, p, host) => {
    const ids = await host.courses.addMany(ctx.tenant, p.courses);
    for (const id of ids) await systemEvent(host, ctx, 'course_update', { action: 'added', course_id: id });
    return ids;
  },
  update_course: async (ctx, p, host) => {
    const { course_id: courseId, ...changes } = p;
    const course = await host.courses.update(ctx.tenant, courseId, changes);
    await systemEvent(host, ctx, 'course_update', { action: 'updated', course_id: courseId });
    return course;
  },
  delete_course: async (ctx, p, host) => {
    await host.courses.delete(ctx.tenant, p.course_id);
    await systemEvent(host, ctx, 'course_update', { action: 'deleted', course_id: p.course_id });
    return true;
  },
  get_schedule_for_week: (ctx, p, host) => host.schedule.forWeek(ctx.tenant, p.week),
  get_current_week: async (ctx, _p, host) => currentWeek(await host.settings.all(ctx.tenant), new Date()),
  check_conflicts: (ctx, p, host) => host.schedule.conflicts(ctx.tenant, p),
  add_schedule_entry: async (ctx, p, host) => {
    const id = await host.schedule.add(ctx.tenant, p);
    await systemEvent(host, ctx, 'schedule_update', { action: 'added', course_id: p.course_id, entry_id: id });
    return id;
  },
  delete_schedule_entry: async (ctx, p, host) => {
    const entry = await host.schedule.delete(ctx.tenant, p.entry_id);
    await systemEvent(host, ctx, 'schedule_update', {
      action: 'deleted',
      course_id: entry.course_id,
      entry_id: p.entry_id,
    });
    return true;
  },
  emit_event: async (ctx, p, host) => {
    if (Object.hasOwn(SYSTEM_EVENT_PERMISSIONS, p.event_name)) {
      throw new SandboxError(
        'PERMISSION_DENIED',
        `emit_event: '${p.event_name}' is a system event; plugins cannot emit it, choose another name`,
      );
    }
    // Namespaced by its source, which the gateway set from the socket the call came in on.
    await host.events.publish(ctx.tenant, event(pluginEventName(ctx.pluginId, p.event_name), p.data, ctx.pluginId));
    return true;
  },
  get_setting: (ctx, p, host) => host.settings.get(ctx.tenant, p.key),
  set_setting: async (ctx, p, host) => {
    await host.settings.set(ctx.tenant, p.key, p.value);
    await systemEvent(host, ctx, 'setting_update', { key: p.key, value: p.value });
    return true;
  },
  get_all_settings: (ctx, _p, host) => host.settings.all(ctx.tenant),
  get_plugin_data: (ctx, p, host) => host.pluginData.get(ctx.tenant, ctx.pluginId, p.key),
  set_plugin_data: async (ctx, p, host) => {
    await host.pluginData.set(ctx.tenant, ctx.pluginId, p.key, p.value);
    return true;
  },
  delete_plugin_data: (ctx, p, host) => host.pluginData.delete(ctx.tenant, ctx.pluginId, p.key),
  log_info: (ctx, p, host) => pluginLog(host, ctx, 'log_info', p.message),
  log_warning: (ctx, p, host) => pluginLog(host, ctx, 'log_warning', p.message),
  log_error: (ctx, p, host) => pluginLog(host, ctx, 'log_error', p.message),
  log_debug: (ctx, p, host) => pluginLog(host, ctx, 'log_debug', p.message),
  notify_shared_memory_ready: async () => {
    throw new SandboxError('NOT_FOUND', 'notify_shared_memory_ready is answered by the gateway, not forwarded');
  },
};

/**
 * The handlers as the host server calls them. Each payload comes from parsePayload with the
 * catalogue's schema of its api_name, the very schema HostApiPayload types the handler by.
 */
export const HOST_API_HANDLERS: Readonly<Record<HostApiName, ValidatedHandler>> = HANDLERS as Readonly<
  Record<HostApiName, ValidatedHandler>
>;

async function pluginLog(
  host: HostStores,
  ctx: CallContext,
  api: keyof typeof LOG_LEVELS,
  message: string,
): Promise<boolean> {
  // Untrusted text stays nested under its own key.
  host.log[LOG_LEVELS[api]]({ tenant: ctx.tenant, pluginId: ctx.pluginId, plugin: { message } }, 'plugin log');
  return true;
}

function event(name: string, data: unknown, source: string) {
  const nowMs = Date.now();
  return {
    event_name: name,
    event_data: JSON.stringify(data),
    // Unix seconds, as the specification's PluginEvent; milliseconds in the added timestamp_ms.
    timestamp: Math.floor(nowMs / 1_000),
    source_plugin_id: source,
    timestamp_ms: nowMs,
  };
}

async function systemEvent(host: HostStores, ctx: CallContext, name: string, data: unknown): Promise<void> {
  await host.events.publish(ctx.tenant, event(name, data, SYSTEM_SOURCE));
}
