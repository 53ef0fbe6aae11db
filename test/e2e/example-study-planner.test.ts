import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { JobView } from '../../src/lifecycle/index.ts';
import { redisKeys } from '../../src/redis/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { pollUntil } from '../helpers/poll.ts';
import { EXAMPLES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-a';
const PLANNER = 'com.example.study-planner';
const COURSES = ['Compilers', 'Linear Algebra', 'Operating Systems'];
const JOB_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
const MAX_POLLS = 300;

interface Plan {
  week: number;
  courses: Record<string, number>;
  slots: Array<{ name: string; status: string; entry_id?: number }>;
  entries_per_day: Record<string, number>;
}

interface Report {
  state: { enables: number; reloads: number; events_seen: { course_update: number; schedule_update: number } };
  theme: string;
  week: number;
  last_plan: Plan | null;
}

describe('the study-planner example (Python, most of the host API), as examples/config.yaml runs it', () => {
  const events: Array<{ event_name: string; source_plugin_id: string; event_data: string }> = [];
  let subscriber: Redis;
  let t: TestOrchestrator;

  const call = <T>(fn: string, body: unknown = {}) =>
    admin<T>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${PLANNER}/functions/${fn}`, body);
  const emitted = (name: string) =>
    events.filter((e) => e.event_name === `${PLANNER}/${name}`).map((e) => JSON.parse(e.event_data) as unknown);
  const courseNames = async () =>
    (await t.redis.hvals(redisKeys.courses(TENANT))).map((json) => (JSON.parse(json) as { name: string }).name).sort();

  before(async () => {
    t = await startTestOrchestrator(
      [
        {
          id: TENANT,
          // school-a's permissions in examples/config.yaml.
          permissions: [
            'read:courses',
            'modify:courses',
            'read:schedules',
            'modify:schedules',
            'emit:events',
            'access:settings',
          ],
          plugins: [path.join(EXAMPLES, 'study-planner')],
        },
      ],
      {
        beforeStart: async (redis) => {
          subscriber = redis.duplicate();
          subscriber.on('pmessage', (_p: string, _channel: string, message: string) =>
            events.push(JSON.parse(message)),
          );
          await subscriber.psubscribe(redisKeys.allEvents());
        },
      },
    );
  });

  after(async () => {
    subscriber?.disconnect();
    await t?.stop();
  });

  it('on enable: signed and ENABLED; reads the week, sets its theme from config.json, emits planner_ready', async () => {
    const status = t.status(TENANT, PLANNER);
    assert.equal(status.state, 'ENABLED', status.lastError ?? '');
    assert.equal(status.signed, true);
    assert.equal(await t.redis.hget(redisKeys.settings(TENANT), 'study_planner.theme'), 'dark');
    const { body } = await call<Report>('report');
    assert.equal(body.theme, 'dark');
    assert.equal(typeof body.week, 'number');
    assert.deepEqual(emitted('planner_ready'), [{ week: body.week, theme: 'dark' }]);
  });

  it('plan_week adds the courses in one batch, places each slot, stores the plan and emits week_planned', async () => {
    const { status, body: plan } = await call<Plan>('plan_week', { week: 1 });
    assert.equal(status, 200, JSON.stringify(plan));
    assert.deepEqual(Object.keys(plan.courses).sort(), COURSES);
    assert.deepEqual(await courseNames(), COURSES, 'the courses reached the host');
    assert.deepEqual(
      plan.slots.map((s) => [s.name, s.status]),
      [
        ['Linear Algebra', 'placed'],
        ['Operating Systems', 'placed'],
        ['Compilers', 'placed'],
      ],
    );
    assert.deepEqual(plan.entries_per_day, { 1: 1, 3: 1, 5: 1 });
    const stored = await t.redis.hget(redisKeys.pluginData(TENANT, PLANNER), 'last_plan');
    assert.deepEqual(JSON.parse(stored ?? 'null'), plan, 'set_plugin_data');
    assert.deepEqual((await call<Report>('report')).body.last_plan, plan, 'get_plugin_data');
    const announced = await pollUntil(
      () => emitted('week_planned'),
      (list) => list.length >= 1,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.deepEqual(announced, [plan]);
  });

  it('plan_week again adds nothing: the courses are known (get_course), the slots already placed', async () => {
    const first = (await call<Report>('report')).body.last_plan as Plan;
    const { body: again } = await call<Plan>('plan_week', { week: 1 });
    assert.deepEqual(again.courses, first.courses);
    assert.ok(
      again.slots.every((s) => s.status === 'already placed'),
      JSON.stringify(again.slots),
    );
    assert.deepEqual(await courseNames(), COURSES);
  });

  it('book: a clash answers its conflicts; a free slot is booked and unbooked; a bad time is caught as PluginApiError', async () => {
    const session = { name: 'Compilers', day_of_week: 1, start_time: '09:00', end_time: '10:00' };
    assert.deepEqual((await call('book', session)).body, {
      booked: false,
      conflicts: [{ course: 'Linear Algebra', day_of_week: 1, start_time: '08:00', end_time: '09:40' }],
    });
    const booked = await call<{ booked: boolean; entry_id: number }>('book', { ...session, day_of_week: 2 });
    assert.equal(booked.body.booked, true, JSON.stringify(booked.body));
    assert.deepEqual((await call('unbook', { entry_id: booked.body.entry_id })).body, { removed: true });
    const refused = await call<{ booked: boolean; refused: string }>('book', { ...session, start_time: '9 am' });
    assert.deepEqual([refused.body.booked, refused.body.refused], [false, 'INVALID_REQUEST']);
    const unknown = await call<{ error: { message: string } }>('book', { ...session, name: 'Alchemy' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /no course named 'Alchemy'; run plan_week first/);
  });

  it('events reach it: one course_update per course added, one schedule_update per entry added or removed', async () => {
    const seen = await pollUntil(
      async () => (await call<Report>('report')).body.state.events_seen,
      (s) => s.course_update >= 3 && s.schedule_update >= 5,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.deepEqual(seen, { course_update: 3, schedule_update: 5 });
  });

  it('a hot reload carries its state over (on_save → on_restore), then on_enable counts once more', async () => {
    const before = (await call<Report>('report')).body.state;
    const submitted = await admin<{ jobId: string }>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${PLANNER}/reload`, {
      bundle: path.join(EXAMPLES, 'study-planner'),
    });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    await t.orchestrator.waitForJob(submitted.body.jobId, JOB_TIMEOUT_MS).catch(() => undefined);
    const job = (await admin<JobView>(t.adminUrl, 'GET', `/v1/jobs/${submitted.body.jobId}`)).body;
    assert.equal(job.state, 'completed', job.failedReason ?? '');
    const after = (await call<Report>('report')).body.state;
    assert.deepEqual(after, { ...before, enables: before.enables + 1, reloads: before.reloads + 1 });
    assert.equal(emitted('planner_ready').length, 2);
  });
});
