import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin-client.ts';
import { capturedLog, type LogLine } from '../helpers/captured-log.ts';
import { buildCppExamples, compileCppPlugins } from '../helpers/cpp-plugins.ts';
import { pollUntil } from '../helpers/poll.ts';
import {
  CPP_IMAGE,
  EXAMPLES,
  exampleTrust,
  FIXTURES,
  REPO_ROOT,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const CONTRACT = path.join(REPO_ROOT, 'src/protocol/generated/contract.json');
const TENANT = 'school-cpp';
const EXAMPLE = 'com.example.cpp_plugin';
const SURFACE = 'com.test.cpp-surface';
const CRASHER = 'com.test.cpp-crasher';
const BAD_ABI = 'com.test.cpp-bad-abi';
const FIXTURE_PLUGINS = ['cpp-surface', 'cpp-crasher', 'cpp-bad-abi'];
const POLL_MS = 100;
const MAX_POLLS = 300;

/** The fixtures, compiled; the example as the set-up builds and signs it (examples/plugins/example-cpp). */
async function buildPlugins(scratch: string): Promise<void> {
  for (const name of FIXTURE_PLUGINS) cpSync(path.join(FIXTURES, name), path.join(scratch, name), { recursive: true });
  await compileCppPlugins(scratch, FIXTURE_PLUGINS);
  await buildCppExamples();
}

describe("the C++ runner's copy of the contract (classtop-cpp-runner --contract)", () => {
  it('has every host API of the catalogue with its permission, each method calling it; error codes; environment; ABI', async () => {
    const contract = JSON.parse(readFileSync(CONTRACT, 'utf8'));
    const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', CPP_IMAGE, '--contract']);
    const copy = JSON.parse(stdout);
    assert.equal(copy.protocolVersion, contract.protocolVersion);
    assert.equal(copy.errorCodeMetadataKey, contract.errorCodeMetadataKey);
    const statuses = Object.fromEntries(
      Object.entries(contract.errorCodes as Record<string, { grpcStatus: number }>).map(([k, v]) => [k, v.grpcStatus]),
    );
    assert.deepEqual(copy.errorCodes, statuses);
    const env = Object.fromEntries(
      Object.entries(contract.containerEnvironment as Record<string, { required: boolean }>).map(([k, v]) => [
        k,
        v.required,
      ]),
    );
    assert.deepEqual(copy.containerEnvironment, env);
    // The SDK ABI it serves: plugin.h's #defines, as verify's cpp-abi check reads them.
    assert.deepEqual(copy.cppPluginAbi, contract.cppPluginAbi);
    const catalogue = contract.hostApis as Record<string, { permission: string | null }>;
    assert.deepEqual(Object.keys(copy.hostApis).sort(), Object.keys(catalogue).sort());
    for (const [api, { method, permission }] of Object.entries(
      copy.hostApis as Record<string, { method: string; permission: string | null }>,
    )) {
      assert.equal(permission, catalogue[api]?.permission, api);
      assert.equal(copy.methodCalls[method], api, `${method} sends ${api}`);
    }
  });
});

describe('C++ plugins, as the specification writes them, in the cpp sandbox', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-cpp-'));
  const { log, lines } = capturedLog();
  let t: TestOrchestrator;

  const call = <T>(pluginId: string, fn: string, body: unknown = {}) =>
    admin<T>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${pluginId}/functions/${fn}`, body);
  const status = (pluginId: string) => t.status(TENANT, pluginId);
  const pluginLog = (pluginId: string) =>
    lines
      .filter((l: LogLine) => l.msg === 'plugin log' && l.pluginId === pluginId)
      .map((l) => (l.plugin as { message: string }).message);

  const audit = () => t.audit();

  const job = (action: string, pluginId: string, body?: unknown) => t.job(TENANT, action, pluginId, body);

  before(async () => {
    await buildPlugins(scratch);
    t = await startTestOrchestrator(
      [
        {
          id: TENANT,
          permissions: ['read:courses', 'modify:courses', 'read:schedules', 'modify:schedules', 'emit:events'],
          // The example is signed (the example certificate grants com.example.*); the fixtures are not.
          trust: exampleTrust({ allowUnsigned: true }),
          plugins: [path.join(EXAMPLES, 'example-cpp'), ...FIXTURE_PLUGINS.map((name) => path.join(scratch, name))],
        },
      ],
      {
        log,
        config: {
          supervision: {
            restartInitialMs: 100,
            restartMaxMs: 400,
            crashLoopRestarts: 3,
            containerHealth: { intervalMs: 300, timeoutMs: 5_000, startPeriodMs: 100, retries: 2 },
          },
        },
      },
    );
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("runs the specification's ExampleCppPlugin, compiled unmodified and signed: ENABLED, its log lines", async () => {
    const example = status(EXAMPLE);
    assert.equal(example.state, 'ENABLED', example.lastError ?? '');
    assert.equal(example.signed, true);
    assert.equal(status(SURFACE).state, 'ENABLED', status(SURFACE).lastError ?? '');
    // OnEnable's lines; GetCourses ran before the surface added any course.
    assert.deepEqual(pluginLog(EXAMPLE).slice(0, 2), ['C++ Example plugin enabled', 'Total courses: 0']);
  });

  it('is hardened like the other sandboxes: no network, not root, read-only root; Docker probes it', async () => {
    const info = await t.runtime.inspect(status(SURFACE).containerId as string);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.equal(info.Config.User, '10001:10001');
    assert.deepEqual(info.Config.Healthcheck?.Test, ['CMD', '/usr/local/bin/classtop-cpp-runner', '--healthcheck']);
    const health = await pollUntil(
      async () => (await t.runtime.inspect(status(SURFACE).containerId as string)).State.Health?.Status,
      (s) => s === 'healthy',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(health, 'healthy', "the runner's --healthcheck got an answer on the plugin socket");
  });

  it('calls the host API (on a CallStream) with typed results; a refusal is caught as PermissionDeniedError, NOT_FOUND as PluginApiError', async () => {
    const { status: code, body } = await call<Record<string, unknown>>(SURFACE, 'surface');
    assert.equal(code, 200, JSON.stringify(body));
    assert.deepEqual(body, {
      batch: 2,
      courses: ['Cpp 101', 'Cpp 102', 'Cpp 103'],
      teacher: 'Ada',
      updated_location: 'Room 4',
      monday: true,
      conflicts: 1,
      stored: 'hello',
      deleted_data: true,
      after_delete: '',
      deleted_entry: true,
      denied: 'PermissionDeniedError:PERMISSION_DENIED',
      not_found: 'PluginApiError:NOT_FOUND',
      has_read_courses: true,
      has_settings: false,
    });
    assert.ok(pluginLog(SURFACE).includes('cpp-surface: surface done'));
    // The calls went on one CallStream, held open, as the Node SDK's do.
    const metrics = await (await fetch(`${t.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /classtop_gateway_active_streams\{tenant="school-cpp",plugin="com\.test\.cpp-surface",rpc="CallStream"\} 1\n/,
    );
  });

  it('events: On callbacks run for schedule_update, Off removed the course_update one; the example logged each', async () => {
    const seen = await pollUntil(
      async () => (await call<{ schedule_updates: unknown[]; course_updates: number }>(SURFACE, 'seen_events')).body,
      (s) => s.schedule_updates.length >= 2,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    // Added and deleted; the three course_updates came before them on the same stream, to no one.
    assert.equal(seen.schedule_updates.length, 2);
    assert.equal(seen.course_updates, 0);
    const updates = await pollUntil(
      async () => pluginLog(EXAMPLE).filter((m) => m.startsWith('Schedule updated: ')),
      (list) => list.length >= 2,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(updates.length, 2);
    assert.equal(JSON.parse(updates[0]!.slice('Schedule updated: '.length)).action, 'added');
  });

  it("stock libgrpc++ channel settings meet the gateway's ping policy: no connection closed for its pings", async () => {
    // The audit log is flushed once a second: wait for the surface's last call to be in it.
    const records = await pollUntil(
      async () => audit(),
      (list) => list.some((r) => r.pluginId === SURFACE && r.api === 'emit_event'),
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.ok(records.some((r) => r.pluginId === SURFACE && r.api === 'emit_event'));
    assert.deepEqual(
      records.filter((r) => r.api === 'keepalive'),
      [],
    );
  });

  it('calls exported functions; an unknown one is NOT_FOUND, a thrown PluginApiError keeps its code', async () => {
    const { status: code, body } = await call<{ id: string; enables: number }>(SURFACE, 'whoami');
    assert.equal(code, 200);
    assert.deepEqual(body, { id: SURFACE, enables: 1, restored: '' });
    const missing = await call<{ error: { message: string } }>(SURFACE, 'OnEnable');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /the plugin exports no function 'OnEnable'/);
    const failed = await call<{ error: { message: string } }>(SURFACE, 'fail', { n: 1 });
    assert.equal(failed.status, 400);
    assert.match(failed.body.error.message, /fail: deliberate, with \{"n":1\}/);
  });

  it('shared memory as the specification writes it: a 1920×1080×3 frame, read by the host byte for byte', async () => {
    const size = 1920 * 1080 * 3;
    const seed = 3;
    const { status: code, body } = await call(SURFACE, 'frame', { size, seed });
    assert.equal(code, 200, JSON.stringify(body));
    assert.deepEqual(body, { name: 'image_data', size, taken: true });
    const frame = await t.orchestrator.find(TENANT, SURFACE).readSharedMemory('image_data');
    const expected = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) expected[i] = (i * 7 + seed) % 251;
    assert.ok(frame.equals(expected), 'the bytes are the ones the plugin wrote');
  });

  it('hot reload: OnSave in the old version, OnRestore then OnEnable in the new one, state kept', async () => {
    const v2 = path.join(scratch, 'v2');
    cpSync(path.join(scratch, 'cpp-surface'), v2, { recursive: true });
    const yaml = path.join(v2, 'plugin.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('version: 1.0.0', 'version: 1.1.0'));
    const reload = await job('reload', SURFACE, { bundle: v2 });
    assert.equal(reload.state, 'completed', reload.failedReason ?? '');
    assert.equal(status(SURFACE).version, '1.1.0');
    const { body } = await call<{ enables: number; restored: string }>(SURFACE, 'whoami');
    assert.deepEqual(body, { id: SURFACE, enables: 2, restored: '{"enables":1}' });
  });

  it('refuses a library built for another SDK ABI before any of its code runs, saying found and needed', () => {
    const refused = status(BAD_ABI);
    assert.equal(refused.state, 'ERROR');
    assert.equal(refused.containerId, null);
    const error = refused.lastError ?? '';
    assert.match(error, /container exited with code 1 before registering/);
    assert.match(
      error,
      /PluginLoadError: PLUGIN_ABI_MISMATCH: \/plugin\/build\/plugin\.so was built for SDK ABI 2\.0; this runner serves SDK ABI 1\.0 to 1\.0/,
    );
    assert.doesNotMatch(error, /plugin code ran/);
  });

  it('a segfault in plugin code is restarted with backoff, then left in ERROR with the signal', async () => {
    const crashed = await pollUntil(
      () => status(CRASHER),
      (s) => s.reason === 'CRASH_LOOP',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(crashed.state, 'ERROR');
    assert.equal(crashed.restarts, 2, 'restarted twice, then the third crash is a loop');
    const error = crashed.lastError ?? '';
    assert.match(error, /crash loop: 3 crashes within 60000 ms, not restarting; last: container exited with code 139/);
    assert.match(error, /the plugin crashed: SIGSEGV \(segmentation fault\)/);
    // Its neighbours kept serving.
    assert.equal((await call(SURFACE, 'whoami')).status, 200);
  });

  it("DISABLE runs the example's OnDisable", async () => {
    const disabled = await job('disable', EXAMPLE);
    assert.equal(disabled.state, 'completed', disabled.failedReason ?? '');
    assert.equal(pluginLog(EXAMPLE).at(-1), 'C++ Example plugin disabled');
  });
});
