/**
 * What a host API's success carries, in language-neutral type names that every SDK maps to its
 * own types: `integer`, `string`, `boolean`, `json` (any JSON value), `T?` (or null), `T[]` (a
 * list), `map<string,T>` (an object), and the named shapes below. Exported with the catalogue in
 * src/protocol/generated/contract.json.
 */
export const RESULT_SHAPES = {
  Course: { id: 'integer', name: 'string', teacher: 'string?', location: 'string?', color: 'string?' },
  ScheduleEntry: {
    id: 'integer',
    course_id: 'integer',
    day_of_week: 'integer',
    start_time: 'string',
    end_time: 'string',
    weeks: 'integer[]',
    note: 'string?',
  },
  /** Day "1" (Monday) to "7" (Sunday) → that day's entries. */
  WeekSchedule: 'map<string,ScheduleEntry[]>',
} as const;

export type ResultType =
  | 'boolean'
  | 'integer'
  | 'integer[]'
  | 'string?'
  | 'json?'
  | 'map<string,string>'
  | 'Course'
  | 'Course[]'
  | 'ScheduleEntry[]'
  | 'WeekSchedule';
