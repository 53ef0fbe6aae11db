import type { Redis } from 'ioredis';
import { CourseStore } from './courses.ts';
import { ScheduleStore } from './schedule.ts';

/** A small, realistic week: the courses and entries a plugin's reads find on a school's host. */
const COURSES = [
  { name: 'Mathematics', teacher: 'Ms. Noether', location: 'Room 101', color: '#1e88e5' },
  { name: 'Physics', teacher: 'Mr. Feynman', location: 'Lab 2', color: '#43a047' },
  { name: 'Literature', teacher: 'Ms. Woolf', location: 'Room 204', color: '#8e24aa' },
  { name: 'Computer Science', teacher: 'Ms. Hopper', location: 'Lab 1', color: '#fb8c00' },
] as const;

const ALL_TERM = Array.from({ length: 16 }, (_, i) => i + 1);

/** [course index, day of week, start, end, weeks] */
const ENTRIES: ReadonlyArray<readonly [number, number, string, string, number[]]> = [
  [0, 1, '08:00', '09:40', ALL_TERM],
  [1, 1, '10:00', '11:40', ALL_TERM],
  [2, 2, '08:00', '09:40', ALL_TERM],
  [3, 3, '14:00', '15:40', ALL_TERM.filter((w) => w % 2 === 1)],
  [0, 4, '08:00', '09:40', ALL_TERM],
  [1, 5, '10:00', '11:40', ALL_TERM.filter((w) => w <= 8)],
];

/**
 * Writes a sample week into the built-in host's Redis for `tenant`, through the host's own stores:
 * what `verify` and `dev` run a plugin against, so its reads find what a school's host has.
 */
export async function seedSampleSchedule(redis: Redis, tenant: string): Promise<{ courses: number; entries: number }> {
  const ids = await new CourseStore(redis).addMany(tenant, COURSES);
  const schedule = new ScheduleStore(redis);
  for (const [course, day, start, end, weeks] of ENTRIES) {
    await schedule.add(tenant, {
      course_id: ids[course] as number,
      day_of_week: day,
      start_time: start,
      end_time: end,
      weeks,
    });
  }
  return { courses: ids.length, entries: ENTRIES.length };
}
