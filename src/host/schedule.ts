import type { Redis } from 'ioredis';
import { SandboxError } from '../errors/index.ts';
import { redisKeys } from '../redis/index.ts';

export interface ScheduleEntry {
  id: number;
  course_id: number;
  day_of_week: number;
  start_time: string;
  end_time: string;
  weeks: number[];
  note: string | null;
}

export type NewScheduleEntry = Omit<ScheduleEntry, 'id' | 'note'> & { note?: string | null | undefined };

const DAYS_PER_WEEK = 7;
const MS_PER_DAY = 86_400_000;

// Adds an entry only if its course exists, atomically.
// KEYS: courses, entries, entry-seq, course-entries. ARGV: course id, entry JSON without id.
const ADD_ENTRY_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local id = redis.call('INCR', KEYS[3])
-- Splice the id into the JSON text: cjson would turn an empty weeks list into an object.
local entry = string.gsub(ARGV[2], '^{', '{"id":' .. id .. ',', 1)
redis.call('HSET', KEYS[2], tostring(id), entry)
redis.call('SADD', KEYS[4], tostring(id))
return id`;

/** ClassTop schedule entries of one tenant, on Redis. */
export class ScheduleStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async add(tenant: string, entry: NewScheduleEntry): Promise<number> {
    const record = { ...entry, note: entry.note ?? null };
    const id = await this.redis.eval(
      ADD_ENTRY_LUA,
      4,
      redisKeys.courses(tenant),
      redisKeys.entries(tenant),
      redisKeys.entrySeq(tenant),
      redisKeys.courseEntries(tenant, entry.course_id),
      String(entry.course_id),
      JSON.stringify(record),
    );
    if (id === 0) {
      throw new SandboxError('NOT_FOUND', `course_id ${entry.course_id} does not exist; add the course first`);
    }
    return Number(id);
  }

  /** Removes an entry; returns it as it was. */
  async delete(tenant: string, entryId: number): Promise<ScheduleEntry> {
    const json = await this.redis.hget(redisKeys.entries(tenant), String(entryId));
    if (json === null) throw new SandboxError('NOT_FOUND', `schedule entry ${entryId} does not exist`);
    const entry = parseEntry(json);
    await this.redis
      .multi()
      .hdel(redisKeys.entries(tenant), String(entryId))
      .srem(redisKeys.courseEntries(tenant, entry.course_id), String(entryId))
      .exec();
    return entry;
  }

  async all(tenant: string): Promise<ScheduleEntry[]> {
    const values = await this.redis.hvals(redisKeys.entries(tenant));
    return values
      .map(parseEntry)
      .sort((a, b) => a.day_of_week - b.day_of_week || a.start_time.localeCompare(b.start_time));
  }

  /** Days "1".."7", each with the entries that take place in `week`. */
  async forWeek(tenant: string, week: number): Promise<Record<string, ScheduleEntry[]>> {
    const days: Record<string, ScheduleEntry[]> = {};
    for (let day = 1; day <= DAYS_PER_WEEK; day++) days[String(day)] = [];
    for (const entry of await this.all(tenant)) {
      if (takesPlaceIn(entry, week)) days[String(entry.day_of_week)]?.push(entry);
    }
    return days;
  }

  /** The ids of the courses that have an entry taking place in `week`. */
  async coursesInWeek(tenant: string, week: number): Promise<Set<number>> {
    return new Set((await this.all(tenant)).filter((e) => takesPlaceIn(e, week)).map((e) => e.course_id));
  }

  /** Entries on the same day whose time and weeks overlap the given slot. */
  async conflicts(
    tenant: string,
    slot: {
      day_of_week: number;
      start_time: string;
      end_time: string;
      weeks: number[];
      exclude_entry_id?: number | null | undefined;
    },
  ): Promise<ScheduleEntry[]> {
    return (await this.all(tenant)).filter(
      (e) =>
        e.id !== slot.exclude_entry_id &&
        e.day_of_week === slot.day_of_week &&
        e.start_time < slot.end_time &&
        slot.start_time < e.end_time &&
        weeksOverlap(e.weeks, slot.weeks),
    );
  }
}

/** An entry with no weeks listed takes place every week. */
function takesPlaceIn(entry: ScheduleEntry, week: number): boolean {
  return entry.weeks.length === 0 || entry.weeks.includes(week);
}

function weeksOverlap(a: number[], b: number[]): boolean {
  return a.length === 0 || b.length === 0 || a.some((w) => b.includes(w));
}

function parseEntry(json: string): ScheduleEntry {
  return JSON.parse(json) as ScheduleEntry;
}

/**
 * ClassTop's current week: from `semester_start_date` when set (week 1 is the week it falls in),
 * otherwise the `current_week` setting, otherwise 1.
 */
export function currentWeek(settings: Record<string, string>, now: Date): number {
  const start = settings.semester_start_date;
  if (start && /^\d{4}-\d{2}-\d{2}$/.test(start)) {
    const startMs = Date.parse(`${start}T00:00:00Z`);
    const todayMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const days = Math.floor((todayMs - startMs) / MS_PER_DAY);
    return Math.max(1, Math.floor(days / DAYS_PER_WEEK) + 1);
  }
  const configured = Number.parseInt(settings.current_week ?? '', 10);
  return Number.isInteger(configured) && configured >= 1 ? configured : 1;
}
