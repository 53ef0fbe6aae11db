import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PluginStateStore } from '../../src/lifecycle/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { compileCppPlugins } from '../helpers/cpp-plugins.ts';
import { pollUntil } from '../helpers/poll.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-enable-crash';
const NEIGHBOUR = 'com.test.counter';
const REFUSER = 'com.test.py-enable-refuses';
/** Each dies in its Lifecycle ENABLE, every time: how its container exits, and its own last line. */
const CRASHERS = [
  { id: 'com.test.cpp-enable-crasher', exit: /code 139 \(SIGSEGV\)/, says: /cpp-enable-crasher: about to fail/ },
  { id: 'com.test.py-enable-exit', exit: /code 3 during/, says: /py-enable-exit: about to exit/ },
  // Node's process.abort() as the container's PID 1: SIGABRT is ignored there, and abort() then
  // ends the process with a fault it cannot ignore. Node's last words are its stack trace.
  { id: 'com.test.enable-aborter', exit: /code 13\d \(SIG[A-Z]+\)/, says: /\n\d+: \S+ \(node:internal\// },
];
/** Small thresholds, so that three crash loops take seconds: the third crash is a loop. */
const CRASH_LOOP_RESTARTS = 3;
const NEIGHBOUR_CALL_INTERVAL_MS = 50;
const POLL_MS = 100;
const MAX_POLLS = 450;

const REFUSING_PLUGIN = `
from classtop.plugin_system.base import Plugin


class Refuses(Plugin):
    async def on_enable(self):
        raise RuntimeError("this plugin refuses to be enabled")

    async def on_disable(self):
        pass
`;

/** The C++ fixture compiled, and a Python plugin whose on_enable raises (it fails ENABLE but lives). */
async function preparePlugins(scratch: string): Promise<void> {
  cpSync(path.join(FIXTURES, 'cpp-enable-crasher'), path.join(scratch, 'cpp-enable-crasher'), { recursive: true });
  await compileCppPlugins(scratch, ['cpp-enable-crasher']);
  const refuser = path.join(scratch, 'py-enable-refuses');
  mkdirSync(refuser);
  writeFileSync(path.join(refuser, 'plugin.py'), REFUSING_PLUGIN);
  writeFileSync(
    path.join(refuser, 'plugin.yaml'),
    `metadata:\n  id: ${REFUSER}\n  name: Refuses\n  version: 1.0.0\n  language: python\n`,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a plugin whose process dies during Lifecycle ENABLE (C++, Python, Node) is supervised as a crash', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-enable-crash-'));
  let t: TestOrchestrator;
  const neighbourFailures: string[] = [];
  let neighbourCalls = 0;
  let calling = true;
  let caller: Promise<void> = Promise.resolve();

  before(async () => {
    await preparePlugins(scratch);
    t = await startTestOrchestrator(
      [
        {
          id: TENANT,
          trust: exampleTrust({ allowUnsigned: true }),
          plugins: [
            path.join(FIXTURES, 'counter'),
            path.join(scratch, 'cpp-enable-crasher'),
            path.join(FIXTURES, 'py-enable-exit'),
            path.join(FIXTURES, 'enable-aborter'),
            path.join(scratch, 'py-enable-refuses'),
          ],
        },
      ],
      { config: { supervision: { restartInitialMs: 100, restartMaxMs: 400, crashLoopRestarts: CRASH_LOOP_RESTARTS } } },
    );
    // The neighbour answers from the start to the end of every crash loop (bounded by `calling`).
    caller = (async () => {
      while (calling) {
        const answer = await admin(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${NEIGHBOUR}/functions/count`, {});
        neighbourCalls++;
        if (answer.status !== 200) neighbourFailures.push(JSON.stringify(answer.body));
        await sleep(NEIGHBOUR_CALL_INTERVAL_MS);
      }
    })();
  });

  after(async () => {
    calling = false;
    await caller;
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('each is restarted with backoff, then left in ERROR (crash loop) with its exit code, signal and last output', async () => {
    const history = new PluginStateStore(t.redis);
    for (const crasher of CRASHERS) {
      const status = await pollUntil(
        () => t.status(TENANT, crasher.id),
        (s) => s.reason === 'CRASH_LOOP',
        { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
      );
      const error = status.lastError ?? '';
      assert.equal(status.state, 'ERROR', `${crasher.id}: ${error}`);
      assert.equal(status.reason, 'CRASH_LOOP', `${crasher.id}: ${error}`);
      assert.equal(status.restarts, CRASH_LOOP_RESTARTS - 1, `${crasher.id}: restarted twice, the third crash a loop`);
      assert.match(error, /^crash loop: 3 crashes within 60000 ms, not restarting; last: container exited with /);
      assert.match(error, crasher.exit);
      assert.match(error, /during Lifecycle ENABLE; last output:\n/);
      assert.match(error, crasher.says);
      assert.equal(status.containerId, null);

      // Each crash before the loop scheduled a restart, the second one waiting longer (backoff).
      const restarting = (await history.history(TENANT, crasher.id))
        .map((h) => /during Lifecycle ENABLE; restarting in (\d+) ms \(crash (\d) of/.exec(h.reason))
        .filter((m) => m !== null)
        .reverse();
      assert.deepEqual(
        restarting.map((m) => m[2]),
        ['1', '2'],
      );
      assert.ok(Number(restarting[1]?.[1]) >= Number(restarting[0]?.[1]), 'the delay grows');

      const jobs = (await t.orchestrator.jobs()).filter((j) => j.pluginId === crasher.id);
      const enable = jobs.find((j) => j.action === 'enable');
      assert.equal(enable?.state, 'failed', 'the enable job does not claim success');
      assert.match(enable?.failedReason ?? '', crasher.exit);
      assert.match(enable?.failedReason ?? '', /during Lifecycle ENABLE; restarting in \d+ ms \(crash 1 of/);
      const restarts = jobs.filter((j) => j.action === 'restart');
      assert.equal(restarts.length, CRASH_LOOP_RESTARTS - 1);
      assert.ok(restarts.every((j) => j.state === 'failed' && /crash restart/.test(j.cause)));
    }
  });

  it('a neighbour in the same tenant kept answering throughout', () => {
    assert.deepEqual(neighbourFailures, []);
    assert.ok(neighbourCalls > 0, 'the neighbour was called');
    assert.equal(t.status(TENANT, NEIGHBOUR).restarts, 0);
  });

  it('a plugin that fails ENABLE without dying (on_enable raises) is not a crash: no restart, its reason', async () => {
    const status = t.status(TENANT, REFUSER);
    assert.equal(status.state, 'ERROR');
    assert.equal(status.reason, 'START_FAILED', status.lastError ?? '');
    assert.match(status.lastError ?? '', /this plugin refuses to be enabled/);
    assert.equal(status.restarts, 0);
    const jobs = (await t.orchestrator.jobs()).filter((j) => j.pluginId === REFUSER);
    assert.deepEqual(
      jobs.map((j) => [j.action, j.state]),
      [['enable', 'failed']],
    );
  });
});
