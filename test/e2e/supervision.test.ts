import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PluginStateStore } from '../../src/lifecycle/index.ts';
import {
  EXAMPLES,
  exampleTrust,
  FIXTURES,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const HANGER = 'com.test.hanger';
const HELLO = 'com.example.hello-world';
const POLL_MS = 100;
const MAX_POLLS = 300;

describe('supervision of a plugin that stops answering', () => {
  let t: TestOrchestrator;

  before(async () => {
    t = await startTestOrchestrator(
      [{ id: 'school-a', trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'hanger')] }],
      {
        config: {
          supervision: {
            restartInitialMs: 100,
            restartMaxMs: 400,
            healthIntervalMs: 300,
            healthTimeoutMs: 300,
            unhealthyAfter: 3,
          },
        },
      },
    );
  });

  after(async () => {
    await t?.stop();
  });

  it('is treated as crashed after its health pings fail, and restarted in a new container', async () => {
    const before = t.status('school-a', HANGER);
    assert.equal(before.state, 'ENABLED');
    const plugin = t.orchestrator.find('school-a', HANGER);
    void plugin.callFunction('hang', Buffer.from('{}'), Date.now() + 500).catch(() => undefined);

    const status = await pollUntil(
      () => t.status('school-a', HANGER),
      (s) => s.state === 'ENABLED' && s.restarts === 1,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(status.state, 'ENABLED');
    assert.equal(status.restarts, 1);
    assert.notEqual(status.containerId, before.containerId, 'a new container');
    const history = await new PluginStateStore(t.redis).history('school-a', HANGER);
    const failure = history.find((h) => h.to === 'ERROR');
    assert.match(
      failure?.reason ?? '',
      /stopped answering: 3 health pings in a row got no answer within 300 ms; restarting in \d+ ms/,
    );
    const answered = await plugin
      .callFunction('nothing', Buffer.from('{}'), Date.now() + 2_000)
      .catch((err: Error) => err.message);
    assert.match(String(answered), /exports no function 'nothing'/, 'the new instance answers');
  });
});

describe('Redis restarted under a running orchestrator', () => {
  it('reconnects and carries on: plugin calls and lifecycle jobs work, state kept', async () => {
    const t = await startTestOrchestrator([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }]);
    try {
      const hello = t.orchestrator.find('school-a', HELLO);
      await t.redisServer.restart();
      const stored = await new PluginStateStore(t.redis).get('school-a', HELLO);
      assert.equal(stored.state, 'ENABLED', 'state survived the restart');
      const job = await t.orchestrator.submit({
        action: 'restart',
        tenant: 'school-a',
        pluginId: HELLO,
        cause: 'after redis restart',
      });
      const done = await t.orchestrator.waitForJob(job, 60_000);
      assert.equal(done.state, 'completed', done.failedReason ?? '');
      const result = await hello.callFunction('process_data', Buffer.from('{"name":"again"}'), Date.now() + 10_000);
      assert.equal((JSON.parse(result.toString()) as { greeting: string }).greeting, 'hello, again');
    } finally {
      await t.stop();
    }
  });
});

describe('a crash restart the supervisor scheduled, after the plugin was disabled meanwhile', () => {
  const CRASHER = 'com.test.crasher';
  let t: TestOrchestrator;

  before(async () => {
    t = await startTestOrchestrator(
      [{ id: 'school-a', trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'crasher')] }],
      // Long enough for the disable job to run before the restart is due.
      { config: { supervision: { restartInitialMs: 2_000, restartMaxMs: 2_000 } } },
    );
  });

  after(async () => {
    await t?.stop();
  });

  it('does nothing: the plugin stays DISABLED, with no container, and the restart job says why', async () => {
    const restart = await pollUntil(
      async () => (await t.orchestrator.jobs()).find((j) => j.action === 'restart' && j.pluginId === CRASHER),
      (job) => job !== undefined,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(t.status('school-a', CRASHER).state, 'ERROR', 'crashed, restart scheduled');
    const disable = await t.orchestrator.submit({
      action: 'disable',
      tenant: 'school-a',
      pluginId: CRASHER,
      cause: 'test',
    });
    await t.orchestrator.waitForJob(disable, 30_000);
    assert.equal(t.status('school-a', CRASHER).state, 'DISABLED');

    await t.orchestrator.waitForJob(restart!.id, 30_000);
    const done = await t.orchestrator.job(restart!.id);
    assert.equal(done?.state, 'completed');
    assert.match(done?.progress?.step ?? '', /not restarted: DISABLED since the crash/);
    const status = t.status('school-a', CRASHER);
    assert.equal(status.state, 'DISABLED', 'not enabled again by the stale restart');
    assert.equal(status.containerId ?? null, null, 'no container');
  });
});
