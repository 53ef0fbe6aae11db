import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { redisKeys } from '../../src/redis/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { pollUntil } from '../helpers/poll.ts';
import {
  EXAMPLES,
  exampleTrust,
  FIXTURES,
  NODE_IMAGE,
  REPO_ROOT,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const TENANT = 'school-py';
const EXAMPLE = 'com.example.example-plugin';
const SURFACE = 'com.test.py-surface';
const POLL_MS = 100;
const MAX_POLLS = 300;

describe("the Python SDK's copy of the contract and its plugin loader (python3 -m unittest)", () => {
  it('passes: method table, signatures, error codes, container environment, plugin discovery', async () => {
    const { stderr } = await run(PYTHON, ['-B', '-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
      cwd: path.join(REPO_ROOT, 'sandboxes/python'),
    });
    assert.match(stderr, /\nOK\n?$/);
  });
});

describe('Python plugins, as the specification writes them, in the python sandbox', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-python-'));
  const events: Array<{ event_name: string; source_plugin_id: string; event_data: string }> = [];
  let subscriber: Redis;
  let t: TestOrchestrator;

  const call = <T>(pluginId: string, fn: string, body: unknown = {}) =>
    admin<T>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${pluginId}/functions/${fn}`, body);
  const status = (pluginId: string) => t.status(TENANT, pluginId);
  const audit = () => t.audit();

  const job = (action: string, pluginId: string, body?: unknown) => t.job(TENANT, action, pluginId, body);

  before(async () => {
    t = await startTestOrchestrator(
      [
        {
          id: TENANT,
          permissions: ['read:courses', 'modify:courses', 'read:schedules', 'modify:schedules', 'emit:events'],
          // The example is signed; the fixture is not.
          trust: exampleTrust({ allowUnsigned: true }),
          plugins: [path.join(EXAMPLES, 'example-python'), path.join(FIXTURES, 'py-surface')],
        },
      ],
      {
        config: {
          supervision: {
            restartInitialMs: 100,
            restartMaxMs: 400,
            containerHealth: { intervalMs: 300, timeoutMs: 5_000, startPeriodMs: 100, retries: 2 },
          },
        },
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
    rmSync(scratch, { recursive: true, force: true });
  });

  it("runs the specification's ExamplePlugin (signed, appendix B's plugin.yaml) and the fixture: ENABLED", () => {
    const example = status(EXAMPLE);
    assert.equal(example.state, 'ENABLED', example.lastError ?? '');
    assert.equal(example.signed, true);
    assert.equal(status(SURFACE).state, 'ENABLED', status(SURFACE).lastError ?? '');
  });

  it('is hardened like the node sandbox: no network, not root, read-only root, python3 -I -B; Docker probes it', async () => {
    const info = await t.runtime.inspect(status(SURFACE).containerId as string);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.equal(info.Config.User, '10001:10001');
    assert.deepEqual(info.Config.Healthcheck?.Test, [
      'CMD',
      PYTHON,
      '-I',
      '-B',
      '/usr/local/lib/classtop/healthcheck.py',
    ]);
    const { status: code, body } = await call<Record<string, unknown>>(SURFACE, 'probe');
    assert.equal(code, 200, JSON.stringify(body));
    assert.deepEqual(body, {
      uid: 10001,
      gid: 10001,
      interfaces: ['lo'],
      write_root: 'EROFS',
      write_plugin: 'EROFS',
      write_tmp: 'ok',
      cap_eff: '0000000000000000',
      no_new_privs: '1',
      bytecode_cache: false,
      flags: { isolated: 1, dont_write_bytecode: 1 },
    });
    const health = await pollUntil(
      async () => (await t.runtime.inspect(status(SURFACE).containerId as string)).State.Health?.Status,
      (s) => s === 'healthy',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(health, 'healthy', "the image's healthcheck.py got an answer on the plugin socket");
  });

  it('sets self.id and self.config (config.json); self.state kept by the plugin', async () => {
    const { status: code, body } = await call<{ id: string; config: unknown; state: unknown }>(SURFACE, 'whoami');
    assert.equal(code, 200);
    assert.deepEqual(body, { id: SURFACE, config: { colour: '#336699', rooms: ['A1', 'B2'] }, state: { enables: 1 } });
  });

  it('calls every host API with typed results; each call without permission raises PermissionDeniedError', async () => {
    const { status: code, body } = await call<Record<string, unknown>>(SURFACE, 'surface');
    assert.equal(code, 200, JSON.stringify(body));
    const denied = 'PermissionDeniedError:PERMISSION_DENIED:True';
    assert.deepEqual(body, {
      courses: ['Py 101', 'Py 102', 'Py 103'],
      course_is_typed: true,
      updated_location: 'Room 4',
      batch: 2,
      week_days: [1, 2, 3, 4, 5, 6, 7],
      week_entry_is_typed: true,
      conflicts: true,
      current_week: body.current_week,
      stored: { value: 42 },
      after_delete: null,
      deleted_entry: true,
      deleted_course: true,
      emitted: true,
      denied: { get_setting: denied, set_setting: denied, get_all_settings: denied },
      not_found: 'NOT_FOUND',
    });
    assert.equal(typeof body.current_week, 'number');
    // What the plugin stored reached the host's data for this plugin.
    const stored = await t.redis.hget(redisKeys.pluginData(TENANT, SURFACE), 'surface');
    assert.deepEqual(JSON.parse(stored ?? 'null'), body);
    // The audit stream is flushed once a second.
    const refused = await pollUntil(
      () => audit().filter((r) => r.pluginId === SURFACE && r.code === 'PERMISSION_DENIED'),
      (list) => list.length >= 3,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.deepEqual(refused.map((r) => r.api).sort(), ['get_all_settings', 'get_setting', 'set_setting']);
  });

  it('events both ways: its emit_event reaches the host namespaced; schedule_update reaches its listeners', async () => {
    const done = events.find((e) => e.event_name === `${SURFACE}/surface_done`);
    assert.equal(done?.source_plugin_id, SURFACE);
    assert.deepEqual(JSON.parse(done?.event_data ?? 'null'), { courses: 3 });
    // The fixture's add_schedule_entry / delete_schedule_entry emitted two system schedule_updates.
    const seen = await pollUntil(
      async () => (await call<unknown[]>(SURFACE, 'seen_events')).body,
      (list) => list.length >= 2,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(seen.length, 2);
    // The ExamplePlugin calls get_courses only in on_schedule_update: its audit records show it ran.
    const exampleCalls = await pollUntil(
      () => audit().filter((r) => r.pluginId === EXAMPLE && r.api === 'get_courses'),
      (list) => list.length >= 2,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(exampleCalls.length, 2);
    assert.ok(exampleCalls.every((r) => r.decision === 'allowed'));
  });

  it('calls an exported function through the admin API and `classtop-sandbox call`', async () => {
    const expected = { status: 'ok', result: { keys: ['value'], config: { greeting: 'hello from config.json' } } };
    const { status: code, body } = await call(EXAMPLE, 'process_data', { value: 100 });
    assert.equal(code, 200);
    assert.deepEqual(body, expected);
    const port = new URL(t.adminUrl).port;
    const { stdout } = await run(process.execPath, [
      CLI,
      'call',
      `${TENANT}/${EXAMPLE}`,
      'process_data',
      '{"value": 100}',
      '--admin',
      `127.0.0.1:${port}`,
    ]);
    assert.deepEqual(JSON.parse(stdout), expected);
    const missing = await call<{ error: { message: string } }>(EXAMPLE, 'on_enable');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /exports no function 'on_enable'/);
  });

  it('hot reload: on_save in the old version, on_restore then on_enable in the new, state kept', async () => {
    const v2 = path.join(scratch, 'v2');
    cpSync(path.join(FIXTURES, 'py-surface'), v2, { recursive: true });
    const yaml = path.join(v2, 'plugin.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('version: 1.0.0', 'version: 1.1.0'));
    const reload = await job('reload', SURFACE, { bundle: v2 });
    assert.equal(reload.state, 'completed', reload.failedReason ?? '');
    assert.equal(status(SURFACE).version, '1.1.0');
    const { body } = await call<{ state: unknown }>(SURFACE, 'whoami');
    assert.deepEqual(body.state, { enables: 2 }, 'restored {enables: 1}, then on_enable counted one more');
  });

  it('a crash (os._exit) is restarted in a new container and enabled again', async () => {
    const before = status(SURFACE);
    await call(SURFACE, 'crash').catch(() => undefined);
    const after = await pollUntil(
      () => status(SURFACE),
      (s) => s.state === 'ENABLED' && s.restarts > before.restarts,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(after.state, 'ENABLED', after.lastError ?? '');
    assert.equal(after.restarts, before.restarts + 1);
    assert.notEqual(after.containerId, before.containerId);
    assert.equal((await call(SURFACE, 'whoami')).status, 200);
  });
});

describe('a runtime whose image is not built', () => {
  let t: TestOrchestrator;

  before(async () => {
    t = await startTestOrchestrator(
      [
        {
          id: TENANT,
          trust: exampleTrust({ allowUnsigned: true }),
          plugins: [path.join(EXAMPLES, 'hello-world'), path.join(FIXTURES, 'py-surface')],
        },
      ],
      { config: { images: { node: NODE_IMAGE, python: 'classtop/sandbox-python:not-built' } } },
    );
  });

  after(async () => {
    await t?.stop();
  });

  it('refuses only the plugins of that runtime, naming the image and the fix; the others run', () => {
    assert.equal(t.status(TENANT, 'com.example.hello-world').state, 'ENABLED');
    const python = t.status(TENANT, SURFACE);
    assert.equal(python.state, 'ERROR');
    assert.match(
      python.lastError ?? '',
      /sandbox image classtop\/sandbox-python:not-built \(images\.python\) is not built; run docker\/build-images\.sh/,
    );
  });
});
