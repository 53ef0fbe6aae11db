import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PluginStateStore } from '../../src/lifecycle/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const COUNTER = 'com.test.counter';
const CRASHER = 'com.test.crasher';
const CALLS_PER_SECOND = 250;
const MAX_CALLS = 5_000;
const POLL_MS = 100;
const MAX_POLLS = 300;

interface CountResult {
  version: string;
  count: number;
  restoredFrom: string | null;
}

describe('lifecycle jobs: hot reload without lost calls, rollback, crash supervision', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-lifecycle-'));
  let t: TestOrchestrator;

  function version(name: string, versionText: string, edit?: (dir: string) => void): string {
    const dir = path.join(scratch, name);
    cpSync(path.join(FIXTURES, 'counter'), dir, { recursive: true });
    const yamlFile = path.join(dir, 'plugin.yaml');
    writeFileSync(yamlFile, readFileSync(yamlFile, 'utf8').replace('version: 1.0.0', `version: ${versionText}`));
    edit?.(dir);
    return dir;
  }

  const job = (action: string, pluginId: string, body?: unknown) => t.job('school-a', action, pluginId, body);

  const count = () => admin<CountResult>(t.adminUrl, 'POST', `/v1/plugins/school-a/${COUNTER}/functions/count`, {});

  before(async () => {
    t = await startTestOrchestrator(
      [
        {
          id: 'school-a',
          trust: exampleTrust({ allowUnsigned: true }),
          plugins: [path.join(FIXTURES, 'counter'), path.join(FIXTURES, 'crasher')],
        },
      ],
      {
        config: {
          supervision: { restartInitialMs: 100, restartMaxMs: 400, crashLoopRestarts: 3, crashLoopWindowMs: 60_000 },
        },
      },
    );
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`reloads under ${CALLS_PER_SECOND} calls/s with no failed call, carrying the state over`, async () => {
    assert.equal(t.status('school-a', COUNTER).state, 'ENABLED');
    const results: CountResult[] = [];
    const failures: string[] = [];
    let reloading = true;
    const load = (async () => {
      const pending: Array<Promise<void>> = [];
      const started = Date.now();
      for (let i = 0; i < MAX_CALLS && (reloading || Date.now() - started < 1_000); i++) {
        pending.push(
          count().then(
            (r) => void (r.status === 200 ? results.push(r.body) : failures.push(JSON.stringify(r.body))),
            (err: Error) => void failures.push(err.message),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 1_000 / CALLS_PER_SECOND));
      }
      await Promise.all(pending);
    })();
    await new Promise((resolve) => setTimeout(resolve, 300)); // calls flowing before the reload starts
    const reload = await job('reload', COUNTER, { bundle: version('v2', '2.0.0') });
    reloading = false;
    await load;

    assert.equal(reload.state, 'completed', reload.failedReason ?? '');
    assert.deepEqual(reload.progress, { step: 'reloaded', percent: 100 });
    assert.deepEqual(failures, [], 'no call failed because of the reload');
    assert.ok(results.length > 100, `calls were made (${results.length})`);
    const versions = new Set(results.map((r) => r.version));
    assert.deepEqual([...versions].sort(), ['1.0.0', '2.0.0'], 'calls reached both versions');
    const counts = results.map((r) => r.count).sort((a, b) => a - b);
    assert.deepEqual(
      counts,
      Array.from({ length: results.length }, (_, i) => i + 1),
      'every call counted once, across the reload',
    );
    assert.ok(results.filter((r) => r.version === '2.0.0').every((r) => r.restoredFrom === '1.0.0'));
    const status = t.status('school-a', COUNTER);
    assert.equal(status.state, 'ENABLED');
    assert.equal(status.version, '2.0.0');
    assert.equal((await leftovers(t.config, t.runtime)).containers.filter((c) => c.includes('counter')).length, 1);
  });

  it('a new version that cannot restore rolls back: the old one keeps serving with its state', async () => {
    const before = (await count()).body.count;
    const failed = await job('reload', COUNTER, { bundle: version('v3', '3.0.0-broken') });
    assert.equal(failed.state, 'failed');
    assert.match(failed.failedReason ?? '', /ENABLE failed in the plugin: this version cannot restore state/);
    assert.equal(failed.attemptsMade, 1, 'a permanent failure is not retried');
    const after = (await count()).body;
    assert.deepEqual([after.version, after.count], ['2.0.0', before + 1]);
    const status = t.status('school-a', COUNTER);
    assert.equal(status.state, 'ENABLED');
    assert.match(status.lastError ?? '', /cannot restore state/);
    assert.equal((await leftovers(t.config, t.runtime)).containers.filter((c) => c.includes('counter')).length, 1);
  });

  it('an old version that cannot save its state: the reload fails, the new one is removed, the old one serves on', async () => {
    const before = (await count()).body;
    const refused = await admin(t.adminUrl, 'POST', `/v1/plugins/school-a/${COUNTER}/functions/refuse_next_save`, {});
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    const failed = await job('reload', COUNTER, { bundle: version('v5', '5.0.0') });
    assert.equal(failed.state, 'failed');
    assert.match(failed.failedReason ?? '', /RELOAD failed in the plugin: this instance refuses to save its state/);
    assert.equal(failed.attemptsMade, 1, "the plugin's own failure is not retried");
    const after = (await count()).body;
    assert.deepEqual([after.version, after.count], [before.version, before.count + 1], 'the old one, with its state');
    const status = t.status('school-a', COUNTER);
    assert.equal(status.state, 'ENABLED');
    assert.match(status.lastError ?? '', /could not save its state|refuses to save/);
    assert.equal(
      (await leftovers(t.config, t.runtime)).containers.filter((c) => c.includes('counter')).length,
      1,
      'the new version started for the reload was removed',
    );
  });

  it('a new version that does not start is refused; the old one keeps serving', async () => {
    const failed = await job('reload', COUNTER, {
      bundle: version('v4', '4.0.0', (dir) =>
        writeFileSync(path.join(dir, 'index.js'), 'throw new Error("v4 is broken");\n'),
      ),
    });
    assert.equal(failed.state, 'failed');
    assert.match(failed.failedReason ?? '', /container exited with code 1 before registering/);
    assert.equal((await count()).body.version, '2.0.0');
  });

  it('enable is idempotent; disable runs onDisable and removes the container; state and history are in Redis', async () => {
    const before = t.status('school-a', COUNTER);
    const again = await job('enable', COUNTER);
    assert.equal(again.state, 'completed');
    assert.equal(
      t.status('school-a', COUNTER).containerId,
      before.containerId,
      'enabling an enabled plugin changes nothing',
    );
    const disabled = await job('disable', COUNTER);
    assert.equal(disabled.state, 'completed');
    const status = t.status('school-a', COUNTER);
    assert.equal(status.state, 'DISABLED');
    assert.equal(status.containerId, null);
    assert.equal((await count()).status, 404);
    const stored = await new PluginStateStore(t.redis).get('school-a', COUNTER);
    assert.equal(stored.state, 'DISABLED');
    const history = await new PluginStateStore(t.redis).history('school-a', COUNTER);
    // Newest first: disable; then the failed reload of v4 (back to ENABLED, the old version kept).
    assert.deepEqual(
      history.slice(0, 3).map((h) => h.to),
      ['DISABLED', 'ENABLED', 'RELOADING'],
    );
    assert.match(history[1]?.reason ?? '', /reload failed; the old version keeps serving/);
    assert.ok(history.some((h) => h.to === 'RELOADING'));
    const reenabled = await job('enable', COUNTER);
    assert.equal(reenabled.state, 'completed');
    assert.equal(t.status('school-a', COUNTER).state, 'ENABLED');
  });

  it('a crash-looping plugin is restarted with backoff, then left in ERROR with its exit code and output', async () => {
    const status = await pollUntil(
      () => t.status('school-a', CRASHER),
      (s) => s.reason === 'CRASH_LOOP',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(status.state, 'ERROR');
    assert.equal(status.reason, 'CRASH_LOOP');
    assert.equal(status.restarts, 2, 'restarted twice, then the third crash is a loop');
    assert.match(
      status.lastError ?? '',
      /crash loop: 3 crashes within 60000 ms, not restarting; last: container exited with code 7/,
    );
    assert.match(status.lastError ?? '', /crasher: about to fail/);
    assert.equal(status.containerId, null);
    const restarts = (await t.orchestrator.jobs()).filter((j) => j.pluginId === CRASHER && j.action === 'restart');
    assert.equal(restarts.length, 2);
    assert.ok(restarts.every((j) => j.state === 'completed' && /crash restart/.test(j.cause)));
  });
});
