import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobView } from '../../src/lifecycle/index.ts';
import { PluginStateStore } from '../../src/lifecycle/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { callsDuringReload } from '../helpers/calls-during-reload.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { pollUntil } from '../helpers/poll.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-py';
const COUNTER = 'com.test.py-counter';
/** Host → plugin calls during the reload, at a steady rate (as test/e2e/lifecycle.test.ts does for node). */
const CALLS_PER_SECOND = 200;
const MAX_CALLS = 4_000;
/** Calls keep flowing this long before the reload starts and after it ends. */
const CALLS_AROUND_RELOAD_MS = 500;
const JOB_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
const MAX_POLLS = 300;

interface CountResult {
  version: string;
  count: number;
  restored_from: string | null;
}

describe('a Python plugin under supervision and hot reload, through the same code paths as node', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-py-supervision-'));
  let t: TestOrchestrator;

  const count = () => admin<CountResult>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${COUNTER}/functions/count`, {});

  async function reload(bundle: string): Promise<JobView> {
    const submitted = await admin<{ jobId: string }>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${COUNTER}/reload`, {
      bundle,
    });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    await t.orchestrator.waitForJob(submitted.body.jobId, JOB_TIMEOUT_MS).catch(() => undefined);
    return (await admin<JobView>(t.adminUrl, 'GET', `/v1/jobs/${submitted.body.jobId}`)).body;
  }

  before(async () => {
    t = await startTestOrchestrator(
      [{ id: TENANT, trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'py-counter')] }],
      { config: { supervision: { restartInitialMs: 100, restartMaxMs: 400 } } },
    );
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`hot reload under ${CALLS_PER_SECOND} host → plugin calls/s: none fails; on_save → on_restore carries the count`, async () => {
    assert.equal(t.status(TENANT, COUNTER).state, 'ENABLED', t.status(TENANT, COUNTER).lastError ?? '');
    const v2 = path.join(scratch, 'v2');
    cpSync(path.join(FIXTURES, 'py-counter'), v2, { recursive: true });
    const yaml = path.join(v2, 'plugin.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('version: 1.0.0', 'version: 2.0.0'));

    const { job, results, failures } = await callsDuringReload(count, () => reload(v2), {
      callsPerSecond: CALLS_PER_SECOND,
      maxCalls: MAX_CALLS,
      aroundMs: CALLS_AROUND_RELOAD_MS,
    });

    assert.equal(job.state, 'completed', job.failedReason ?? '');
    assert.deepEqual(failures, [], 'no host → plugin call failed because of the reload');
    assert.ok(results.length > 100, `calls were made (${results.length})`);
    assert.deepEqual([...new Set(results.map((r) => r.version))].sort(), ['1.0.0', '2.0.0'], 'both versions answered');
    assert.deepEqual(
      results.map((r) => r.count).sort((a, b) => a - b),
      Array.from({ length: results.length }, (_, i) => i + 1),
      'every call counted once, across the reload: the state was carried over',
    );
    assert.ok(results.filter((r) => r.version === '2.0.0').every((r) => r.restored_from === '1.0.0'));
    assert.equal(t.status(TENANT, COUNTER).version, '2.0.0');
    const containers = (await leftovers(t.config, t.runtime)).containers.filter((c) => c.includes('py-counter'));
    assert.equal(containers.length, 1, 'the old container was removed');
  });

  it('allocating past its memory limit: OOM-killed, reported as out of memory, restarted in a new container', async () => {
    const before = t.status(TENANT, COUNTER);
    const answer = await admin<{ error?: { message: string } }>(
      t.adminUrl,
      'POST',
      `/v1/plugins/${TENANT}/${COUNTER}/functions/allocate`,
      {},
    );
    assert.notEqual(answer.status, 200, `the plugin survived: ${JSON.stringify(answer.body)}`);
    const after = await pollUntil(
      () => t.status(TENANT, COUNTER),
      (s) => s.state === 'ENABLED' && s.restarts > before.restarts,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(after.state, 'ENABLED', after.lastError ?? '');
    assert.equal(after.restarts, before.restarts + 1);
    assert.notEqual(after.containerId, before.containerId, 'a new container');
    const history = await new PluginStateStore(t.redis).history(TENANT, COUNTER);
    const crash = history.find((h) => h.to === 'ERROR');
    assert.match(
      crash?.reason ?? '',
      /^container exited with code 137 \(killed: out of memory\); restarting in \d+ ms \(crash 1 of at most \d+/,
    );
    const fresh = await count();
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.equal(fresh.body.version, '2.0.0', 'the restart runs the version that was serving');
  });
});
