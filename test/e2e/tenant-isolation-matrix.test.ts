import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { HOST_APIS, type HostApiName } from '../../src/host-api/index.ts';
import { PERMISSIONS } from '../../src/manifest/index.ts';
import { redisKeys } from '../../src/redis/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { TestGatewayClient, type CallOutcome } from '../helpers/gateway-client.ts';
import { pollUntil } from '../helpers/poll.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const A = 'school-a';
const B = 'school-b';
/** The same plugin id in both tenants: only the socket tells them apart. */
const PLUGIN = 'com.test.isolation';
const VERSION = '1.0.0';
/** Every value tenant B stores contains this; no answer A gets may contain it. */
const B_SECRET = 'b-secret';
const A_TEXT = 'a-own';
/**
 * B creates this many courses, and entries on the first of them, before anything else, so that
 * B's fresh ids are B's alone while A's small ids exist in B too (the colliding-id routes).
 */
const B_FILLER_COURSES = 100;
const B_FILLER_ENTRIES = 30;
/** The week every seeded entry takes place in, and which B's view looks at. */
const WEEK = 7;
const B_REGION = 'b-only-region';
const A_REGION = 'a-own-region';
const REGION_BYTES = 4096;
const REGION_SEED = 9;
/** Events of a tenant are delivered within 5 s. */
const EVENT_POLLS = { intervalMs: 20, maxPolls: 250 };
/** How long B's gateway has to refuse an event stream opened with A's token. */
const STREAM_REFUSAL_MS = 5_000;

interface Course {
  id: number;
  name: string;
}

interface Entry {
  id: number;
  course_id: number;
  note: string | null;
}

/** One tenant's instance of PLUGIN, driven from the test over its gateway socket. */
class TenantPlugin {
  readonly tenant: string;
  /** Text in every value this tenant stores. */
  readonly text: string;
  readonly client: TestGatewayClient;
  token = '';
  /** The calls made since the last reset: each is replayed on the other tenant's socket. */
  readonly calls: Array<{ api: string; payload: unknown }> = [];
  private readonly forbidden: string | undefined;
  private events: ReturnType<TestGatewayClient['subscribe']> | undefined;
  private fences = 0;

  constructor(t: TestOrchestrator, tenant: string, text: string, forbidden?: string) {
    this.tenant = tenant;
    this.text = text;
    this.forbidden = forbidden;
    this.client = new TestGatewayClient(t.gatewaySocket(tenant, PLUGIN));
  }

  async open(): Promise<void> {
    const registered = await this.client.register(PLUGIN, VERSION, [...PERMISSIONS], Buffer.alloc(0));
    assert.equal(registered.code, 'OK', registered.message);
    this.token = registered.token;
    this.events = this.client.subscribe(this.token, true);
    await this.fence();
  }

  async call(api: string, payload: unknown): Promise<CallOutcome> {
    this.calls.push({ api, payload });
    const outcome = await this.client.callApi(api, payload, this.token);
    if (this.forbidden !== undefined) {
      const answer = JSON.stringify(outcome.result ?? null);
      assert.ok(
        !answer.includes(this.forbidden),
        `${api} answered ${this.tenant} with another tenant's data: ${answer}`,
      );
    }
    return outcome;
  }

  async ok<T = unknown>(api: string, payload: unknown): Promise<T> {
    const outcome = await this.call(api, payload);
    assert.equal(outcome.code, 'OK', `${this.tenant} ${api}: ${outcome.message}`);
    return outcome.result as T;
  }

  async refused(api: string, payload: unknown, code: string): Promise<void> {
    const outcome = await this.call(api, payload);
    assert.equal(outcome.code, code, `${this.tenant} ${api} ${JSON.stringify(payload)}: ${outcome.message}`);
  }

  /** A payload naming tenant B, a plugin or B's instance is refused by the schema, not obeyed. */
  async smuggle(api: string, payload: object, otherInstanceId: string): Promise<void> {
    const fields = [{ tenant: B }, { tenant_id: B }, { plugin_id: PLUGIN }, { instance_id: otherInstanceId }];
    for (const field of fields) await this.refused(api, { ...payload, ...field }, 'INVALID_REQUEST');
  }

  get eventCount(): number {
    return this.names().length;
  }

  eventsSince(mark: number): string[] {
    return this.names().slice(mark);
  }

  /** Events since `mark` that are not this tenant's own fences. */
  foreignEventsSince(mark: number): string[] {
    return this.eventsSince(mark).filter((name) => !name.includes(`fence-${this.tenant}-`));
  }

  /**
   * Emits a marker until this tenant's own stream delivers it: one tenant's events arrive in order,
   * so everything published before the marker has been delivered by then.
   */
  async fence(): Promise<void> {
    const marker = `fence-${this.tenant}-${++this.fences}`;
    const seen = await pollUntil(
      async () => {
        await this.client.callApi('emit_event', { event_name: marker, data: {} }, this.token);
        return this.names().some((name) => name.includes(marker));
      },
      Boolean,
      EVENT_POLLS,
    );
    assert.ok(seen, `${this.tenant} never received its own event ${marker}`);
  }

  close(): void {
    this.events?.close();
    this.client.close();
  }

  private names(): string[] {
    return this.events?.names ?? [];
  }
}

interface MatrixContext {
  t: TestOrchestrator;
  a: TenantPlugin;
  b: TenantPlugin;
  /** Instance id of B's plugin, smuggled into A's payloads. */
  bInstanceId: string;
  owns: (tenant: string, kind: 'course' | 'entry', id: number) => Promise<boolean>;
}

interface SeededCase {
  /** A's calls aimed at what B seeded, with assertions on what A got back. */
  fromA: () => Promise<void>;
  /** B's own check of what it seeded, through its client. */
  checkB?: () => Promise<void>;
}

interface IsolationCase {
  /** The routes A tries, in words: the test's name. */
  routes: string;
  /** An event A's own successful calls raise: A must see it (so the route is live), B must not. */
  raises?: string;
  /** Tenant B puts data where this API could reach it; returns A's attack on it and B's check of it. */
  seedB: (ctx: MatrixContext) => Promise<SeededCase>;
}

function addCourse(p: TenantPlugin, label: string): Promise<number> {
  return p.ok<number>('add_course', { name: `${p.text} ${label}`, teacher: p.text, location: p.text });
}

function addEntry(p: TenantPlugin, courseId: number, day: number, start = '08:00', end = '09:00'): Promise<number> {
  const entry = { course_id: courseId, day_of_week: day, start_time: start, end_time: end, weeks: [WEEK] };
  return p.ok<number>('add_schedule_entry', { ...entry, note: `${p.text} note` });
}

async function precondition(owned: Promise<boolean>, expected: boolean, why: string): Promise<void> {
  assert.equal(await owned, expected, `precondition: ${why}`);
}

/** Keys that name B's hashes or B itself: a careless host might resolve them against B's data. */
const keysNamingB = (key: string) => [
  `{${B}}:${key}`,
  `../${B}/${key}`,
  `${redisKeys.settings(B)}`,
  `${redisKeys.pluginData(B, PLUGIN)}`,
  `${B}:${key}`,
];

/** Every log API: it succeeds, and nothing B can read or receive changes (checked for every row). */
function logCase(api: HostApiName): IsolationCase {
  return {
    routes: "a message naming B's keys; tenant fields smuggled in",
    seedB: async ({ a, bInstanceId }) => ({
      fromA: async () => {
        const message = `${api} from A about ${redisKeys.settings(B)} and ${redisKeys.pluginData(B, PLUGIN)}`;
        assert.equal(await a.ok(api, { message }), true);
        await a.smuggle(api, { message }, bInstanceId);
      },
    }),
  };
}

/** One row per host API: how B seeds data the API could reach, and what A tries against it. */
const ISOLATION_MATRIX: Record<HostApiName, IsolationCase> = {
  get_courses: {
    routes: 'list while B has 100+ courses; tenant fields smuggled in',
    seedB: async ({ t, a, b, bInstanceId }) => {
      const bCourse = await addCourse(b, 'get_courses');
      return {
        fromA: async () => {
          const courses = await a.ok<Course[]>('get_courses', {});
          assert.ok(
            courses.some((c) => c.name.startsWith(A_TEXT)),
            "positive control: A's own courses are listed",
          );
          assert.equal(courses.length, await t.redis.hlen(redisKeys.courses(A)), 'exactly the courses A stored');
          await a.smuggle('get_courses', {}, bInstanceId);
        },
        checkB: async () => {
          const courses = await b.ok<Course[]>('get_courses', {});
          assert.ok(courses.some((c) => c.id === bCourse));
        },
      };
    },
  },
  get_course: {
    routes: "B's id; an id both tenants hold; tenant fields smuggled in",
    seedB: async ({ a, b, owns, bInstanceId }) => {
      const bCourse = await b.ok<Course>('get_course', { course_id: await addCourse(b, 'get_course') });
      return {
        fromA: async () => {
          await precondition(owns(A, 'course', bCourse.id), false, "the id is B's alone");
          await a.refused('get_course', { course_id: bCourse.id }, 'NOT_FOUND');
          const shared = await addCourse(a, 'get_course');
          await precondition(owns(B, 'course', shared), true, 'B holds the same id');
          assert.equal((await a.ok<Course>('get_course', { course_id: shared })).name, `${A_TEXT} get_course`);
          await a.smuggle('get_course', { course_id: shared }, bInstanceId);
        },
        checkB: async () => assert.deepEqual(await b.ok('get_course', { course_id: bCourse.id }), bCourse),
      };
    },
  },
  add_course: {
    routes: "a course of A's own while B adds courses; tenant fields smuggled in",
    raises: 'course_update',
    seedB: async ({ t, a, b, bInstanceId }) => {
      await addCourse(b, 'add_course');
      return {
        fromA: async () => {
          const next = Number((await t.redis.get(redisKeys.courseSeq(A))) ?? 0) + 1;
          const id = await a.ok<number>('add_course', { name: `${A_TEXT} add_course` });
          assert.equal(id, next, "A's ids come from A's own sequence");
          await a.smuggle('add_course', { name: `${A_TEXT} smuggled` }, bInstanceId);
        },
      };
    },
  },
  add_courses_batch: {
    routes: 'a batch; tenant fields smuggled at the top and inside a course',
    raises: 'course_update',
    seedB: async ({ t, a, b, bInstanceId }) => {
      await addCourse(b, 'add_courses_batch');
      return {
        fromA: async () => {
          const courses = [{ name: `${A_TEXT} batch 1` }, { name: `${A_TEXT} batch 2` }];
          const ids = await a.ok<number[]>('add_courses_batch', { courses });
          for (const id of ids) assert.equal(await t.redis.hexists(redisKeys.courses(A), String(id)), 1);
          await a.smuggle('add_courses_batch', { courses }, bInstanceId);
          await a.refused('add_courses_batch', { courses: [{ name: `${A_TEXT} x`, tenant: B }] }, 'INVALID_REQUEST');
        },
      };
    },
  },
  update_course: {
    routes: "B's id; an id both tenants hold; tenant fields smuggled in",
    raises: 'course_update',
    seedB: async ({ a, b, owns, bInstanceId }) => {
      const bCourse = await b.ok<Course>('get_course', { course_id: await addCourse(b, 'update_course') });
      return {
        fromA: async () => {
          await precondition(owns(A, 'course', bCourse.id), false, "the id is B's alone");
          await a.refused('update_course', { course_id: bCourse.id, name: `${A_TEXT} hijacked` }, 'NOT_FOUND');
          const shared = await addCourse(a, 'update_course');
          await precondition(owns(B, 'course', shared), true, 'B holds the same id');
          const renamed = await a.ok<Course>('update_course', { course_id: shared, name: `${A_TEXT} renamed` });
          assert.equal(renamed.name, `${A_TEXT} renamed`);
          await a.smuggle('update_course', { course_id: shared, name: `${A_TEXT} smuggled` }, bInstanceId);
        },
        checkB: async () => assert.deepEqual(await b.ok('get_course', { course_id: bCourse.id }), bCourse),
      };
    },
  },
  delete_course: {
    routes: "B's id (with an entry); an id both tenants hold (B's with entries); tenant fields smuggled in",
    raises: 'course_update',
    seedB: async ({ a, b, owns, bInstanceId }) => {
      const bCourse = await addCourse(b, 'delete_course');
      const bEntry = await addEntry(b, bCourse, 1);
      return {
        fromA: async () => {
          await precondition(owns(A, 'course', bCourse), false, "the id is B's alone");
          await a.refused('delete_course', { course_id: bCourse }, 'NOT_FOUND');
          const shared = await addCourse(a, 'delete_course');
          await precondition(owns(B, 'course', shared), true, 'B holds the same id');
          await a.smuggle('delete_course', { course_id: shared }, bInstanceId);
          assert.equal(await a.ok('delete_course', { course_id: shared }), true);
          await a.refused('get_course', { course_id: shared }, 'NOT_FOUND');
        },
        checkB: async () => {
          await b.ok('get_course', { course_id: bCourse });
          const week = await b.ok<Record<string, Entry[]>>('get_schedule_for_week', { week: WEEK });
          assert.ok(
            week['1']?.some((e) => e.id === bEntry),
            "B's entry on its course is still there",
          );
        },
      };
    },
  },
  get_schedule_for_week: {
    routes: "the week B's entry is in; tenant fields smuggled in",
    seedB: async ({ t, a, b, bInstanceId }) => {
      await addEntry(b, await addCourse(b, 'get_schedule_for_week'), 2);
      return {
        fromA: async () => {
          const own = await addEntry(a, await addCourse(a, 'get_schedule_for_week'), 2);
          const week = await a.ok<Record<string, Entry[]>>('get_schedule_for_week', { week: WEEK });
          const entries = Object.values(week).flat();
          assert.ok(
            entries.some((e) => e.id === own),
            "positive control: A's own entry is listed",
          );
          for (const entry of entries) {
            const stored = await t.redis.hget(redisKeys.entries(A), String(entry.id));
            assert.deepEqual(entry, JSON.parse(stored ?? 'null'), 'every entry listed is one A stored');
          }
          await a.smuggle('get_schedule_for_week', { week: WEEK }, bInstanceId);
        },
      };
    },
  },
  get_current_week: {
    routes: "B's current_week setting; tenant fields smuggled in",
    seedB: async ({ a, b, bInstanceId }) => {
      await b.ok('set_setting', { key: 'current_week', value: '37' });
      return {
        fromA: async () => {
          assert.notEqual(await a.ok('get_current_week', {}), 37, "B's setting does not set A's week");
          await a.ok('set_setting', { key: 'current_week', value: '3' });
          assert.equal(await a.ok('get_current_week', {}), 3, "positive control: A's own setting counts");
          await a.smuggle('get_current_week', {}, bInstanceId);
        },
        checkB: async () => assert.equal(await b.ok('get_current_week', {}), 37),
      };
    },
  },
  check_conflicts: {
    routes: "B's slot; B's entry id excluded; tenant fields smuggled in",
    seedB: async ({ a, b, bInstanceId }) => {
      const bEntry = await addEntry(b, await addCourse(b, 'check_conflicts'), 4, '10:00', '11:00');
      const slot = { day_of_week: 4, start_time: '10:00', end_time: '11:00', weeks: [WEEK] };
      return {
        fromA: async () => {
          assert.deepEqual(await a.ok('check_conflicts', slot), [], "B's entry is no conflict for A");
          const own = await addEntry(a, await addCourse(a, 'check_conflicts'), 4, '10:30', '11:30');
          const conflicts = await a.ok<Entry[]>('check_conflicts', { ...slot, exclude_entry_id: bEntry });
          assert.deepEqual(
            conflicts.map((e) => e.id),
            [own],
            "positive control: A's own entry is found, and only it",
          );
          await a.smuggle('check_conflicts', slot, bInstanceId);
        },
        checkB: async () => {
          const conflicts = await b.ok<Entry[]>('check_conflicts', slot);
          assert.deepEqual(
            conflicts.map((e) => e.id),
            [bEntry],
          );
        },
      };
    },
  },
  add_schedule_entry: {
    routes: "B's course id; an id both tenants hold (B's with entries); tenant fields smuggled in",
    raises: 'schedule_update',
    seedB: async ({ a, b, owns, bInstanceId }) => {
      const bCourse = await addCourse(b, 'add_schedule_entry');
      return {
        fromA: async () => {
          await precondition(owns(A, 'course', bCourse), false, "the id is B's alone");
          const entry = { day_of_week: 3, start_time: '08:00', end_time: '09:00', weeks: [WEEK] };
          await a.refused('add_schedule_entry', { ...entry, course_id: bCourse }, 'NOT_FOUND');
          const shared = await addCourse(a, 'add_schedule_entry');
          await precondition(owns(B, 'course', shared), true, 'B holds the same course id');
          await a.ok('add_schedule_entry', { ...entry, course_id: shared });
          await a.smuggle('add_schedule_entry', { ...entry, course_id: shared }, bInstanceId);
        },
      };
    },
  },
  delete_schedule_entry: {
    routes: "B's entry id; an entry id both tenants hold; tenant fields smuggled in",
    raises: 'schedule_update',
    seedB: async ({ a, b, owns, bInstanceId }) => {
      const bEntry = await addEntry(b, await addCourse(b, 'delete_schedule_entry'), 5);
      return {
        fromA: async () => {
          await precondition(owns(A, 'entry', bEntry), false, "the entry id is B's alone");
          await a.refused('delete_schedule_entry', { entry_id: bEntry }, 'NOT_FOUND');
          const shared = await addEntry(a, await addCourse(a, 'delete_schedule_entry'), 5);
          await precondition(owns(B, 'entry', shared), true, 'B holds the same entry id');
          await a.smuggle('delete_schedule_entry', { entry_id: shared }, bInstanceId);
          assert.equal(await a.ok('delete_schedule_entry', { entry_id: shared }), true);
        },
        checkB: async () => {
          const week = await b.ok<Record<string, Entry[]>>('get_schedule_for_week', { week: WEEK });
          assert.ok(week['5']?.some((e) => e.id === bEntry));
        },
      };
    },
  },
  emit_event: {
    routes:
      "an event to A's subscribers; names of B's channel; a system event; tenant and source smuggled in; A's token on B's stream",
    raises: 'a-isolation-probe',
    seedB: async ({ a, b, bInstanceId }) => ({
      fromA: async () => {
        assert.equal(await a.ok('emit_event', { event_name: 'a-isolation-probe', data: { to: B } }), true);
        for (const event_name of [redisKeys.events(B), `${B}/a-isolation-probe`, '../school-b']) {
          await a.refused('emit_event', { event_name, data: {} }, 'INVALID_REQUEST');
        }
        await a.refused('emit_event', { event_name: 'course_update', data: {} }, 'PERMISSION_DENIED');
        await a.smuggle('emit_event', { event_name: 'a-isolation-smuggled', data: {} }, bInstanceId);
        await a.refused(
          'emit_event',
          { event_name: 'a-isolation-source', source_plugin_id: 'system' },
          'INVALID_REQUEST',
        );
        const stream = await b.client.subscribeOnce(a.token, STREAM_REFUSAL_MS);
        assert.equal(stream.code, 'AUTHENTICATION_FAILED', "A's token on B's event stream");
      },
    }),
  },
  get_setting: {
    routes: "B's key; the same key; keys naming B's hash; tenant fields smuggled in",
    seedB: async ({ t, a, b, bInstanceId }) => {
      await b.ok('set_setting', { key: 'b_only_setting', value: `${B_SECRET} only` });
      await b.ok('set_setting', { key: 'shared_setting', value: `${B_SECRET} shared` });
      return {
        fromA: async () => {
          for (const key of ['b_only_setting', 'shared_setting']) {
            assert.equal(await a.ok('get_setting', { key }), null, key);
          }
          for (const key of keysNamingB('shared_setting')) {
            const own = await t.redis.hget(redisKeys.settings(A), key);
            assert.equal(await a.ok('get_setting', { key }), own, `${key}: only what A itself stored`);
          }
          await a.ok('set_setting', { key: 'shared_setting', value: `${A_TEXT} shared` });
          assert.equal(await a.ok('get_setting', { key: 'shared_setting' }), `${A_TEXT} shared`, 'positive control');
          await a.smuggle('get_setting', { key: 'shared_setting' }, bInstanceId);
        },
        checkB: async () => {
          assert.equal(await b.ok('get_setting', { key: 'shared_setting' }), `${B_SECRET} shared`);
        },
      };
    },
  },
  set_setting: {
    routes: "the same key as B; keys naming B's hash; tenant fields smuggled in",
    raises: 'setting_update',
    seedB: async ({ a, b, bInstanceId }) => {
      await b.ok('set_setting', { key: 'theme', value: `${B_SECRET} theme` });
      return {
        fromA: async () => {
          for (const key of ['theme', ...keysNamingB('theme')]) {
            assert.equal(await a.ok('set_setting', { key, value: `${A_TEXT} theme` }), true, key);
          }
          assert.equal(await a.ok('get_setting', { key: 'theme' }), `${A_TEXT} theme`, 'positive control');
          await a.smuggle('set_setting', { key: 'theme', value: `${A_TEXT} smuggled` }, bInstanceId);
        },
        checkB: async () => assert.equal(await b.ok('get_setting', { key: 'theme' }), `${B_SECRET} theme`),
      };
    },
  },
  get_all_settings: {
    routes: 'all settings while B has its own; tenant fields smuggled in',
    seedB: async ({ t, a, b, bInstanceId }) => {
      await b.ok('set_setting', { key: 'b_only_all', value: `${B_SECRET} all` });
      return {
        fromA: async () => {
          await a.ok('set_setting', { key: 'a_only_all', value: `${A_TEXT} all` });
          const settings = await a.ok<Record<string, string>>('get_all_settings', {});
          assert.equal(settings.a_only_all, `${A_TEXT} all`, 'positive control');
          assert.deepEqual(settings, await t.redis.hgetall(redisKeys.settings(A)), 'exactly the settings A stored');
          await a.smuggle('get_all_settings', {}, bInstanceId);
        },
        checkB: async () => {
          const settings = await b.ok<Record<string, string>>('get_all_settings', {});
          assert.equal(settings.b_only_all, `${B_SECRET} all`);
        },
      };
    },
  },
  get_plugin_data: {
    routes: "B's key; the same key (same plugin id); keys naming B's hash; tenant and plugin smuggled in",
    seedB: async ({ t, a, b, bInstanceId }) => {
      await b.ok('set_plugin_data', { key: 'b_only_data', value: { secret: B_SECRET } });
      await b.ok('set_plugin_data', { key: 'shared_data', value: { secret: B_SECRET } });
      return {
        fromA: async () => {
          for (const key of ['b_only_data', 'shared_data']) {
            assert.equal(await a.ok('get_plugin_data', { key }), null, key);
          }
          for (const key of keysNamingB('shared_data')) {
            const own = await t.redis.hget(redisKeys.pluginData(A, PLUGIN), key);
            assert.deepEqual(await a.ok('get_plugin_data', { key }), JSON.parse(own ?? 'null'), `${key}: A's own`);
          }
          await a.ok('set_plugin_data', { key: 'shared_data', value: { mine: A_TEXT } });
          assert.deepEqual(await a.ok('get_plugin_data', { key: 'shared_data' }), { mine: A_TEXT }, 'positive control');
          await a.smuggle('get_plugin_data', { key: 'shared_data' }, bInstanceId);
        },
        checkB: async () => {
          assert.deepEqual(await b.ok('get_plugin_data', { key: 'shared_data' }), { secret: B_SECRET });
        },
      };
    },
  },
  set_plugin_data: {
    routes: "the same key as B (same plugin id); keys naming B's hash; tenant and plugin smuggled in",
    seedB: async ({ a, b, bInstanceId }) => {
      await b.ok('set_plugin_data', { key: 'state', value: { secret: B_SECRET } });
      return {
        fromA: async () => {
          for (const key of ['state', ...keysNamingB('state')]) {
            assert.equal(await a.ok('set_plugin_data', { key, value: A_TEXT }), true, key);
          }
          assert.equal(await a.ok('get_plugin_data', { key: 'state' }), A_TEXT, 'positive control');
          await a.smuggle('set_plugin_data', { key: 'state', value: A_TEXT }, bInstanceId);
        },
        checkB: async () => assert.deepEqual(await b.ok('get_plugin_data', { key: 'state' }), { secret: B_SECRET }),
      };
    },
  },
  delete_plugin_data: {
    routes: "the same key as B (same plugin id); keys naming B's hash; tenant and plugin smuggled in",
    seedB: async ({ t, a, b, bInstanceId }) => {
      await b.ok('set_plugin_data', { key: 'doomed', value: { secret: B_SECRET } });
      return {
        fromA: async () => {
          for (const key of ['doomed', ...keysNamingB('doomed')]) {
            const own = (await t.redis.hexists(redisKeys.pluginData(A, PLUGIN), key)) === 1;
            assert.equal(await a.ok('delete_plugin_data', { key }), own, `${key}: deleted only if A itself had it`);
          }
          await a.ok('set_plugin_data', { key: 'doomed', value: A_TEXT });
          assert.equal(await a.ok('delete_plugin_data', { key: 'doomed' }), true, 'positive control');
          await a.smuggle('delete_plugin_data', { key: 'doomed' }, bInstanceId);
        },
        checkB: async () => assert.deepEqual(await b.ok('get_plugin_data', { key: 'doomed' }), { secret: B_SECRET }),
      };
    },
  },
  log_info: logCase('log_info'),
  log_warning: logCase('log_warning'),
  log_error: logCase('log_error'),
  log_debug: logCase('log_debug'),
  notify_shared_memory_ready: {
    routes: "a region that exists only in B's shm directory; paths into B's directory; tenant fields smuggled in",
    seedB: async ({ t, a, bInstanceId }) => {
      await createRegion(t, B, B_REGION);
      return {
        fromA: async () => {
          // What A's name reaches is A's own directory, where no such file exists.
          const announced = await a.call('notify_shared_memory_ready', { name: B_REGION, size: REGION_BYTES });
          assert.equal(announced.code, 'NOT_FOUND', announced.message);
          const read = await admin<{ error: { message: string } }>(t.adminUrl, 'GET', shmPath(A, B_REGION));
          assert.equal(read.status, 404, "the name announced by A never reaches B's bytes");
          for (const name of [`../${bInstanceId}/${B_REGION}`, `${bInstanceId}/${B_REGION}`]) {
            await a.refused('notify_shared_memory_ready', { name, size: REGION_BYTES }, 'INVALID_REQUEST');
          }
          await a.smuggle('notify_shared_memory_ready', { name: B_REGION, size: REGION_BYTES }, bInstanceId);
          // Positive control: a region of A's own is read through the same path.
          await createRegion(t, A, A_REGION);
          assert.equal((await fetch(`${t.adminUrl}${shmPath(A, A_REGION)}`)).status, 200);
        },
        checkB: async () => {
          const read = await fetch(`${t.adminUrl}${shmPath(B, B_REGION)}`);
          assert.equal(read.status, 200);
          assert.ok(Buffer.from(await read.arrayBuffer()).equals(frameBytes(REGION_BYTES, REGION_SEED)));
        },
      };
    },
  },
};

function shmPath(tenant: string, region: string): string {
  return `/v1/plugins/${tenant}/${PLUGIN}/shm/${region}`;
}

/** Has the tenant's plugin create, fill and announce `region` in its own shm directory. */
async function createRegion(t: TestOrchestrator, tenant: string, region: string): Promise<void> {
  const body = { size: REGION_BYTES, seed: REGION_SEED, name: region };
  const created = await admin(t.adminUrl, 'POST', `/v1/plugins/${tenant}/${PLUGIN}/functions/frame_shm`, body);
  assert.deepEqual(created.body, { name: region, size: REGION_BYTES });
}

/** The bytes the framer fixture writes: byte i is (i * 7 + seed) % 251. */
function frameBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) % 251;
  return bytes;
}

/** Every host-data key of `tenant` in Redis with its value; lifecycle bookkeeping is left out. */
async function hostDataOf(redis: Redis, tenant: string): Promise<Record<string, unknown>> {
  // The tenant's key prefix, taken from the one module that owns the key layout.
  const prefix = redisKeys.courses(tenant).slice(0, -'courses'.length);
  const lifecycle = [redisKeys.pluginState, redisKeys.pluginHistory, redisKeys.pluginLock].map((key) =>
    key(tenant, ''),
  );
  const keys = (await redis.keys(`${prefix}*`)).filter((key) => !lifecycle.some((l) => key.startsWith(l))).sort();
  const data: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'hash') data[key] = await redis.hgetall(key);
    else if (type === 'set') data[key] = (await redis.smembers(key)).sort();
    else if (type === 'string') data[key] = await redis.get(key);
    else if (type === 'list') data[key] = await redis.lrange(key, 0, -1);
    else data[key] = type;
  }
  return data;
}

/** What a tenant sees of its own host data through its client. */
async function viewOf(p: TenantPlugin): Promise<Record<string, unknown>> {
  return {
    courses: await p.ok('get_courses', {}),
    // Entries of a day that start together come in Redis hash order, which may change without a write.
    schedule: Object.values(await p.ok<Record<string, Entry[]>>('get_schedule_for_week', { week: WEEK }))
      .flat()
      .sort((x, y) => x.id - y.id),
    settings: await p.ok('get_all_settings', {}),
    currentWeek: await p.ok('get_current_week', {}),
  };
}

/** The framer fixture, declaring every ordinary permission, as PLUGIN (no fixture declares them all). */
function writeIsolationPlugin(scratch: string): string {
  const dir = path.join(scratch, 'isolation');
  cpSync(path.join(FIXTURES, 'framer'), dir, { recursive: true });
  const manifestFile = path.join(dir, 'plugin.yaml');
  const manifest = parse(readFileSync(manifestFile, 'utf8')) as { metadata: Record<string, unknown> };
  manifest.metadata.id = PLUGIN;
  manifest.metadata.version = VERSION;
  writeFileSync(manifestFile, stringify({ ...manifest, permissions: [...PERMISSIONS] }));
  return dir;
}

describe('tenant isolation matrix: through every host API, a plugin of tenant A cannot read, write or learn of tenant B', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-isolation-'));
  let t: TestOrchestrator;
  let a: TenantPlugin;
  let b: TenantPlugin;
  let ctx: MatrixContext;

  before(async () => {
    const plugin = writeIsolationPlugin(scratch);
    const trust = exampleTrust({ allowUnsigned: true });
    t = await startTestOrchestrator([
      { id: A, trust, plugins: [plugin] },
      { id: B, trust, plugins: [plugin] },
    ]);
    a = new TenantPlugin(t, A, A_TEXT, B_SECRET);
    b = new TenantPlugin(t, B, B_SECRET);
    await a.open();
    await b.open();
    const fillers = Array.from({ length: B_FILLER_COURSES }, (_, i) => ({ name: `${B_SECRET} filler ${i + 1}` }));
    const fillerIds = await b.ok<number[]>('add_courses_batch', { courses: fillers });
    for (const id of fillerIds.slice(0, B_FILLER_ENTRIES)) await addEntry(b, id, 7);
    await addCourse(a, 'first');
    // The set-up's own events (A's course_update above) are delivered before any row marks A's
    // stream, so a late one is never taken for something B did.
    await b.fence();
    await a.fence();
    const owns = async (tenant: string, kind: 'course' | 'entry', id: number) => {
      const key = kind === 'course' ? redisKeys.courses(tenant) : redisKeys.entries(tenant);
      return (await t.redis.hexists(key, String(id))) === 1;
    };
    ctx = { t, a, b, owns, bInstanceId: t.status(B, PLUGIN).instanceId as string };
  });

  after(async () => {
    a?.close();
    b?.close();
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('every host API in the catalogue has a row in the matrix', () => {
    assert.deepEqual(Object.keys(ISOLATION_MATRIX).sort(), Object.keys(HOST_APIS).sort());
  });

  for (const [api, row] of Object.entries(ISOLATION_MATRIX)) {
    it(`${api}: ${row.routes}`, async () => {
      const beforeSeed = a.eventCount;
      const seeded = await row.seedB(ctx);
      // B's seeding events are delivered now, so whatever reaches B from here on is A's doing.
      await b.fence();
      await a.fence();
      assert.deepEqual(a.foreignEventsSince(beforeSeed), [], "nothing B did reached A's event stream");
      const markA = a.eventCount;
      const markB = b.eventCount;
      const storedBefore = await hostDataOf(t.redis, B);
      const viewBefore = await viewOf(b);
      a.calls.length = 0;

      await seeded.fromA();
      for (const call of a.calls) {
        const replayed = await b.client.callApi(call.api, call.payload, a.token);
        assert.equal(replayed.code, 'AUTHENTICATION_FAILED', `A's token on B's socket: ${call.api}`);
      }

      await seeded.checkB?.();
      assert.deepEqual(await viewOf(b), viewBefore, "B's own view is unchanged");
      assert.deepEqual(await hostDataOf(t.redis, B), storedBefore, "B's data in Redis is unchanged");
      await b.fence();
      await a.fence();
      assert.deepEqual(b.foreignEventsSince(markB), [], "nothing A did reached B's event stream");
      if (row.raises !== undefined) {
        const raised = row.raises;
        assert.ok(
          a.eventsSince(markA).some((name) => name.includes(raised)),
          `positive control: A's own stream got ${raised}`,
        );
      }
    });
  }
});
