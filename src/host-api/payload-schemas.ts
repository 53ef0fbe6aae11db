import { z } from 'zod';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const COLOR = /^#[0-9A-Fa-f]{6}$/;
const MAX_TEXT = 200;
const MAX_BATCH = 500;

const id = z.int().positive();
const optionalText = z.string().max(MAX_TEXT).nullable().optional();
const time = z.string().regex(HH_MM, 'must be a 24-hour time HH:MM, e.g. 08:00');
const dayOfWeek = z.int().min(1, 'must be 1 (Monday) to 7 (Sunday)').max(7, 'must be 1 (Monday) to 7 (Sunday)');
const weeks = z.array(z.int().min(1).max(60)).max(60).default([]);
const settingKey = z.string().min(1).max(100);
const dataKey = z.string().min(1).max(200);
const week = z.int().min(1).max(60);

export const courseFields = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(MAX_TEXT),
  teacher: optionalText,
  location: optionalText,
  color: z.string().regex(COLOR, 'must be #RRGGBB').nullable().optional(),
});

const timeRange = <T extends { start_time: string; end_time: string }>(value: T, ctx: z.RefinementCtx) => {
  if (value.start_time >= value.end_time) {
    ctx.addIssue({ code: 'custom', path: ['end_time'], message: `must be after start_time ${value.start_time}` });
  }
};

export const PAYLOAD_SCHEMAS = {
  empty: z.strictObject({}),
  /** The specification's example sends `{"week": 1}`: the courses scheduled in that week. */
  getCourses: z.strictObject({ week: week.optional() }),
  courseId: z.strictObject({ course_id: id }),
  addCourse: courseFields,
  updateCourse: courseFields.partial().extend({ course_id: id }),
  addCoursesBatch: z.strictObject({ courses: z.array(courseFields).min(1).max(MAX_BATCH) }),
  week: z.strictObject({ week }),
  addScheduleEntry: z
    .strictObject({
      course_id: id,
      day_of_week: dayOfWeek,
      start_time: time,
      end_time: time,
      weeks,
      note: optionalText,
    })
    .superRefine(timeRange),
  entryId: z.strictObject({ entry_id: id }),
  checkConflicts: z
    .strictObject({
      day_of_week: dayOfWeek,
      start_time: time,
      end_time: time,
      weeks,
      exclude_entry_id: id.nullable().optional(),
    })
    .superRefine(timeRange),
  emitEvent: z.strictObject({
    event_name: z
      .string()
      .regex(
        /^[a-z][a-z0-9_.-]{0,63}$/,
        'must be 1-64 lowercase letters, digits, "_", "." or "-", starting with a letter',
      ),
    data: z.unknown().default({}),
  }),
  settingKey: z.strictObject({ key: settingKey }),
  setSetting: z.strictObject({ key: settingKey, value: z.string().max(10_000) }),
  dataKey: z.strictObject({ key: dataKey }),
  setData: z.strictObject({ key: dataKey, value: z.unknown() }),
  log: z.strictObject({ message: z.string().max(4_096) }),
  sharedMemory: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-" (no "/", no "..")'),
    size: z.int().positive(),
  }),
} as const;
