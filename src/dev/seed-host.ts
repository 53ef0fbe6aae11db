import type { Redis } from 'ioredis';
import { CourseStore, ScheduleStore } from '../host/index.ts';

/** Weeks 1-16: a term, so whatever week the plugin asks about has classes. */
const TERM_WEEKS = Array.from({ length: 16 }, (_, i) => i + 1);

/** A small, realistic week: three courses, five classes. */
const COURSES = [
  { name: 'Mathematics', teacher: 'Ms. Li', location: 'Room 101', color: '#4f81bd' },
  { name: 'Physics', teacher: 'Mr. Wang', location: 'Lab 2', color: '#c0504d' },
  { name: 'English', teacher: 'Ms. Smith', location: 'Room 204', color: '#9bbb59' },
] as const;

/** [course index, day of week (1 = Monday), start, end] */
const CLASSES: ReadonlyArray<readonly [number, number, string, string]> = [
  [0, 1, '08:00', '09:40'],
  [1, 1, '10:00', '11:40'],
  [2, 2, '08:00', '09:40'],
  [0, 3, '14:00', '15:40'],
  [1, 4, '08:00', '09:40'],
];

/**
 * Gives a dev session's built-in host something to show: the plugin under development sees
 * courses and a week's schedule, as it would on a school's host. Only ever on the session's own
 * Redis, which is thrown away when the session stops.
 */
export async function seedHost(redis: Redis, tenant: string): Promise<{ courses: number; classes: number }> {
  const ids = await new CourseStore(redis).addMany(tenant, COURSES);
  const schedule = new ScheduleStore(redis);
  for (const [course, day, start, end] of CLASSES) {
    await schedule.add(tenant, {
      course_id: ids[course] as number,
      day_of_week: day,
      start_time: start,
      end_time: end,
      weeks: TERM_WEEKS,
    });
  }
  return { courses: ids.length, classes: CLASSES.length };
}
