import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { SandboxError } from '../errors/index.ts';
import { redisKeys } from '../redis/index.ts';
import type { courseFields } from '../host-api/payload-schemas.ts';

export interface Course {
  id: number;
  name: string;
  teacher: string | null;
  location: string | null;
  color: string | null;
}

type CourseFields = z.infer<typeof courseFields>;

// Deletes a course with its schedule entries, atomically. KEYS: courses, course-entries, entries.
const DELETE_COURSE_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local ids = redis.call('SMEMBERS', KEYS[2])
for _, id in ipairs(ids) do redis.call('HDEL', KEYS[3], id) end
redis.call('DEL', KEYS[2])
return 1 + #ids`;

/** ClassTop courses of one tenant, on Redis. */
export class CourseStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async list(tenant: string): Promise<Course[]> {
    const all = await this.redis.hvals(redisKeys.courses(tenant));
    return all.map((json) => JSON.parse(json) as Course).sort((a, b) => a.id - b.id);
  }

  async get(tenant: string, courseId: number): Promise<Course> {
    const json = await this.redis.hget(redisKeys.courses(tenant), String(courseId));
    if (json === null) throw new SandboxError('NOT_FOUND', `course ${courseId} does not exist`);
    return JSON.parse(json) as Course;
  }

  async exists(tenant: string, courseId: number): Promise<boolean> {
    return (await this.redis.hexists(redisKeys.courses(tenant), String(courseId))) === 1;
  }

  /** Adds all courses or none; returns their ids in order. */
  async addMany(tenant: string, courses: readonly CourseFields[]): Promise<number[]> {
    const last = await this.redis.incrby(redisKeys.courseSeq(tenant), courses.length);
    const first = last - courses.length + 1;
    const records = courses.map((fields, i) => toCourse(first + i, fields));
    const flat = records.flatMap((c) => [String(c.id), JSON.stringify(c)]);
    await this.redis.hset(redisKeys.courses(tenant), ...flat);
    return records.map((c) => c.id);
  }

  async update(tenant: string, courseId: number, changes: Partial<CourseFields>): Promise<Course> {
    const current = await this.get(tenant, courseId);
    const updated = toCourse(courseId, { ...current, ...changes });
    await this.redis.hset(redisKeys.courses(tenant), String(courseId), JSON.stringify(updated));
    return updated;
  }

  /** Deletes the course and its schedule entries. */
  async delete(tenant: string, courseId: number): Promise<void> {
    const removed = await this.redis.eval(
      DELETE_COURSE_LUA,
      3,
      redisKeys.courses(tenant),
      redisKeys.courseEntries(tenant, courseId),
      redisKeys.entries(tenant),
      String(courseId),
    );
    if (removed === 0) throw new SandboxError('NOT_FOUND', `course ${courseId} does not exist`);
  }
}

function toCourse(id: number, fields: CourseFields): Course {
  return {
    id,
    name: fields.name.trim(),
    teacher: fields.teacher ?? null,
    location: fields.location ?? null,
    color: fields.color ?? null,
  };
}
