import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const UNSOCKET = 'com.test.unsocket';
const HANGER = 'com.test.hanger';
// Docker's timeout above the probe's own (3 s), so that the probe says why it failed.
const HEALTH = { intervalMs: 300, timeoutMs: 5_000, startPeriodMs: 100, retries: 2 };
const POLL = { intervalMs: 200, maxPolls: 150 };
const CALL_DEADLINE_MS = 5_000;

describe("Docker's HEALTHCHECK of a plugin container (CIS 5.27)", () => {
  let t: TestOrchestrator;
  const health = async (pluginId: string) =>
    (await t.runtime.inspect(t.status('tenant-a', pluginId).containerId as string)).State.Health?.Status;
  /** Polls Docker's health status until it is `wanted` (bounded by POLL); returns the last seen. */
  const healthBecomes = (pluginId: string, wanted: string) =>
    pollUntil(
      () => health(pluginId),
      (s) => s === wanted,
      POLL,
    );
  const call = (pluginId: string, name: string) =>
    t.orchestrator.find('tenant-a', pluginId).callFunction(name, Buffer.from('{}'), Date.now() + CALL_DEADLINE_MS);

  before(async () => {
    t = await startTestOrchestrator(
      [
        {
          id: 'tenant-a',
          trust: exampleTrust({ allowUnsigned: true }),
          plugins: [path.join(FIXTURES, 'unsocket'), path.join(FIXTURES, 'hanger')],
        },
      ],
      // The orchestrator's own ping is slow here, so that only Docker's probe judges the hung plugin.
      { config: { supervision: { containerHealth: HEALTH, healthIntervalMs: 600_000 } } },
    );
  });

  after(async () => {
    await t?.stop();
  });

  it("comes from the image, with the orchestrator's timings", async () => {
    const info = await t.runtime.inspect(t.status('tenant-a', UNSOCKET).containerId as string);
    assert.deepEqual(info.Config.Healthcheck?.Test, [
      'CMD',
      '/usr/local/bin/node',
      '--v8-pool-size=1',
      '--max-old-space-size=16',
      '/usr/local/lib/classtop/healthcheck.mjs',
    ]);
    assert.equal(info.Config.Healthcheck?.Interval, HEALTH.intervalMs * 1e6);
    assert.equal(info.Config.Healthcheck?.Retries, HEALTH.retries);
  });

  it('a running plugin becomes healthy', async () => {
    for (const pluginId of [UNSOCKET, HANGER]) {
      assert.equal(await healthBecomes(pluginId, 'healthy'), 'healthy', pluginId);
    }
  });

  it('a plugin whose socket is gone becomes unhealthy (the orchestrator still reaches the socket it pinned)', async () => {
    await call(UNSOCKET, 'drop_socket');
    assert.equal(await healthBecomes(UNSOCKET, 'unhealthy'), 'unhealthy');
    assert.deepEqual(JSON.parse((await call(UNSOCKET, 'still_here')).toString()), { here: true });
  });

  it('a hung plugin becomes unhealthy', async () => {
    void call(HANGER, 'hang').catch(() => undefined);
    assert.equal(await healthBecomes(HANGER, 'unhealthy'), 'unhealthy');
    const info = await t.runtime.inspect(t.status('tenant-a', HANGER).containerId as string);
    assert.match(info.State.Health?.Log.at(-1)?.Output ?? '', /unhealthy: no answer on \/run\/classtop\/plugin.sock/);
  });
});
