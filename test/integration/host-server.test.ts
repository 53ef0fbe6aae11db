import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SandboxError } from '../../src/errors/index.ts';
import { LocalUpstream, UpstreamHost, type Upstream, type UpstreamCalls } from '../../src/upstream/index.ts';
import { HostServer } from '../../src/host/index.ts';
import type { PluginEvent } from '../../src/protocol/index.ts';
import { EmbeddedRedis } from '../../src/redis/index.ts';
import { testLogger } from '../helpers/test-orchestrator.ts';

const DEADLINE_MS = 5_000;

/** Gateways reach the host over gRPC, or in its own process: the same behaviour either way. */
for (const route of ['over gRPC', 'in process'] as const)
  describe(`the built-in ClassTop host on Redis, ${route}`, () => {
    let dataDir: string;
    let redisServer: EmbeddedRedis;
    let redis: Redis;
    let host: HostServer;
    let upstream: Upstream;
    let client: UpstreamCalls;
    let socket: string;

    async function startHost(): Promise<void> {
      redisServer = await EmbeddedRedis.start(dataDir);
      redis = new Redis({ path: redisServer.socketPath });
      host = new HostServer(redis, testLogger());
      await host.listen(`unix://${socket}`);
      upstream = route === 'over gRPC' ? new UpstreamHost(`unix://${socket}`) : new LocalUpstream(host);
      client = upstream.openCalls();
    }

    async function stopHost(): Promise<void> {
      client?.close();
      if (upstream instanceof UpstreamHost) upstream.close();
      await host?.close();
      redis?.disconnect();
      await redisServer?.stop();
    }

    async function call<T = unknown>(
      apiName: string,
      payload: unknown = {},
      tenant = 'school-a',
      pluginId = 'com.example.p',
    ): Promise<T> {
      const response = await client.invoke(
        {
          tenant,
          plugin_id: pluginId,
          instance_id: 'i1',
          api_name: apiName,
          payload: Buffer.from(JSON.stringify(payload)),
        },
        Date.now() + DEADLINE_MS,
      );
      return JSON.parse(response.result.toString('utf8')) as T;
    }

    async function failure(apiName: string, payload: unknown): Promise<SandboxError> {
      try {
        await call(apiName, payload);
      } catch (err) {
        assert.ok(err instanceof SandboxError);
        return err;
      }
      assert.fail(`${apiName} succeeded`);
    }

    before(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'ct-host-'));
      socket = path.join(dataDir, 'host.sock');
      await startHost();
    });

    after(async () => {
      await stopHost();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('adds, reads, updates and deletes courses', async () => {
      const id = await call<number>('add_course', {
        name: 'Math',
        teacher: 'Noether',
        location: null,
        color: '#112233',
      });
      assert.deepEqual(await call('get_course', { course_id: id }), {
        id,
        name: 'Math',
        teacher: 'Noether',
        location: null,
        color: '#112233',
      });
      const updated = await call<{ location: string }>('update_course', { course_id: id, location: 'Room 2' });
      assert.equal(updated.location, 'Room 2');
      assert.equal(await call('delete_course', { course_id: id }), true);
      assert.equal((await failure('get_course', { course_id: id })).code, 'NOT_FOUND');
    });

    it('adds a batch of courses in one call, all or none', async () => {
      const before = await call<unknown[]>('get_courses');
      const ids = await call<number[]>('add_courses_batch', { courses: [{ name: 'A' }, { name: 'B' }, { name: 'C' }] });
      assert.equal(ids.length, 3);
      assert.deepEqual(ids, [ids[0], (ids[0] ?? 0) + 1, (ids[0] ?? 0) + 2]);
      const refused = await failure('add_courses_batch', { courses: [{ name: 'D' }, { name: '' }] });
      assert.equal(refused.code, 'INVALID_REQUEST');
      assert.equal(
        (await call<unknown[]>('get_courses')).length,
        before.length + 3,
        'nothing of the refused batch was added',
      );
    });

    it('keeps a schedule: days 1..7, week filters, a course that must exist, cascade on delete, conflicts', async () => {
      const course = await call<number>('add_course', { name: 'Physics' });
      const everyWeek = await call<number>('add_schedule_entry', {
        course_id: course,
        day_of_week: 1,
        start_time: '08:00',
        end_time: '09:30',
      });
      await call('add_schedule_entry', {
        course_id: course,
        day_of_week: 3,
        start_time: '10:00',
        end_time: '11:00',
        weeks: [2, 4],
      });
      const week1 = await call<Record<string, Array<{ id: number; weeks: number[] }>>>('get_schedule_for_week', {
        week: 1,
      });
      assert.deepEqual(Object.keys(week1), ['1', '2', '3', '4', '5', '6', '7']);
      assert.deepEqual(
        week1['1']?.map((e) => e.id),
        [everyWeek],
      );
      assert.deepEqual(week1['1']?.[0]?.weeks, [], 'an empty week list stays a list');
      assert.equal(week1['3']?.length, 0);
      assert.equal((await call<Record<string, unknown[]>>('get_schedule_for_week', { week: 2 }))['3']?.length, 1);

      const clash = await call<Array<{ id: number }>>('check_conflicts', {
        day_of_week: 1,
        start_time: '09:00',
        end_time: '10:00',
      });
      assert.deepEqual(
        clash.map((e) => e.id),
        [everyWeek],
      );
      assert.deepEqual(await call('check_conflicts', { day_of_week: 1, start_time: '09:30', end_time: '10:00' }), []);

      const missing = await failure('add_schedule_entry', {
        course_id: 9999,
        day_of_week: 1,
        start_time: '08:00',
        end_time: '09:00',
      });
      assert.equal(missing.code, 'NOT_FOUND');
      assert.match(missing.message, /course_id 9999 does not exist; add the course first/);

      await call('delete_course', { course_id: course });
      const after = await call<Record<string, unknown[]>>('get_schedule_for_week', { week: 2 });
      assert.ok(
        Object.values(after).every((day) => day.length === 0),
        'deleting a course deleted its entries',
      );
    });

    it('answers the specification\'s get_courses example, {"week": 1}, with the courses scheduled that week', async () => {
      const [weekly, weekTwo, unscheduled] = await call<number[]>('add_courses_batch', {
        courses: [{ name: 'Weekly' }, { name: 'Week two only' }, { name: 'Unscheduled' }],
      });
      const slot = { day_of_week: 2, start_time: '13:00', end_time: '14:00' };
      await call('add_schedule_entry', { course_id: weekly, ...slot });
      await call('add_schedule_entry', { course_id: weekTwo, ...slot, weeks: [2] });
      const ids = async (payload: object) =>
        (await call<Array<{ id: number }>>('get_courses', payload)).map((c) => c.id);
      const inWeek1 = await ids({ week: 1 });
      assert.ok(inWeek1.includes(weekly) && !inWeek1.includes(weekTwo) && !inWeek1.includes(unscheduled));
      const inWeek2 = await ids({ week: 2 });
      assert.ok(inWeek2.includes(weekly) && inWeek2.includes(weekTwo) && !inWeek2.includes(unscheduled));
      assert.ok((await ids({})).includes(unscheduled), 'without a week, every course');
      const unknown = await failure('get_courses', { week: 1, term: 'autumn' });
      assert.equal(unknown.code, 'INVALID_REQUEST');
      assert.match(unknown.message, /unknown field\(s\) term/);
      for (const id of [weekly, weekTwo, unscheduled]) await call('delete_course', { course_id: id });
    });

    it('stores settings and computes the current week from them', async () => {
      assert.equal(await call('get_setting', { key: 'semester_start_date' }), null);
      await call('set_setting', { key: 'current_week', value: '7' });
      assert.equal(await call('get_current_week'), 7);
      assert.deepEqual(await call('get_all_settings'), { current_week: '7' });
    });

    it("keeps each plugin's private data to itself and its tenant", async () => {
      await call('set_plugin_data', { key: 'k', value: { n: 1 } }, 'school-a', 'com.example.p');
      assert.deepEqual(await call('get_plugin_data', { key: 'k' }, 'school-a', 'com.example.p'), { n: 1 });
      assert.equal(await call('get_plugin_data', { key: 'k' }, 'school-a', 'com.example.q'), null);
      assert.equal(await call('get_plugin_data', { key: 'k' }, 'school-b', 'com.example.p'), null);
      assert.equal(await call('delete_plugin_data', { key: 'k' }, 'school-a', 'com.example.p'), true);
    });

    it("streams one tenant's events, system events marked as such", async () => {
      const received: PluginEvent[] = [];
      const unwatch = upstream.watchEvents(
        'school-b',
        (event) => received.push(event),
        (err) => assert.fail(err),
      );
      // The watch reaches the host asynchronously: act until the event arrives (bounded).
      for (let attempt = 0; attempt < 100 && received.length === 0; attempt++) {
        await call('set_setting', { key: 'theme_mode', value: 'dark' }, 'school-a');
        await call('set_setting', { key: 'theme_mode', value: `dark-${attempt}` }, 'school-b');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      unwatch();
      assert.ok(received.length > 0);
      const event = received[0] as PluginEvent;
      assert.equal(event.event_name, 'setting_update');
      assert.equal(event.source_plugin_id, 'system');
      assert.match(JSON.parse(event.event_data.toString()).value, /^dark-\d+$/, "only school-b's own events");
    });

    it('keeps its data across a restart', async () => {
      const id = await call<number>('add_course', { name: 'Survivor' });
      await stopHost();
      await startHost();
      assert.equal((await call<{ name: string }>('get_course', { course_id: id })).name, 'Survivor');
    });
  });
