import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { startPrivateEngine, type PrivateEngine } from '../helpers/private-engine.ts';
import { EXAMPLES, NODE_IMAGE, startTestOrchestrator, testLogger } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const HELLO = 'com.example.hello-world';
/** The image the test config resolves (config default `images.node`). */
const POLL_MS = 200;
const MAX_POLLS = 300;
/** Health pings far apart, so that only the engine's own signals can notice its loss. */
const HEALTH_INTERVAL_MS = 600_000;

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && 'running a private dockerd needs root';

/**
 * Runs hello-world on an engine of the test's own (never the machine's), takes the engine down
 * with `takeDown`, and checks the plugin is recorded as lost with the engine, then enabled again in
 * a new container once the engine is started again on the same data-root.
 */
async function loseAndRegainEngine(takeDown: (engine: PrivateEngine) => Promise<void>): Promise<void> {
  const engine = await startPrivateEngine();
  try {
    engine.loadImages([NODE_IMAGE]);
    const runtime = new DockerSandboxRuntime(testLogger(), engine.socketPath);
    const t = await startTestOrchestrator([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }], {
      config: {
        dockerSocket: engine.socketPath,
        images: { node: NODE_IMAGE },
        supervision: { restartInitialMs: 200, restartMaxMs: 2_000, healthIntervalMs: HEALTH_INTERVAL_MS },
      },
    });
    try {
      const before = t.status('school-a', HELLO);
      assert.equal(before.state, 'ENABLED', before.lastError ?? '');

      await takeDown(engine);
      const lost = await pollUntil(
        () => t.status('school-a', HELLO),
        (s) => s.state !== 'ENABLED',
        { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
      );
      assert.equal(lost.state, 'ERROR');
      assert.equal(lost.reason, 'ENGINE_LOST', lost.lastError ?? '');
      assert.match(lost.lastError ?? '', /Docker engine/);

      await engine.start();
      const back = await pollUntil(
        () => t.status('school-a', HELLO),
        (s) => s.state === 'ENABLED',
        { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
      );
      assert.equal(back.state, 'ENABLED', back.lastError ?? '');
      assert.notEqual(back.containerId, before.containerId);
      const containers = await runtime.listManaged(t.config.orchestratorId);
      assert.deepEqual(
        containers.map((c) => [c.id, c.state]),
        [[back.containerId, 'running']],
        'only the new container: the one lost with the engine was removed',
      );
    } finally {
      await t.stop();
    }
    assert.deepEqual(await runtime.listManaged(t.config.orchestratorId), [], 'no container of the run remains');
  } finally {
    await engine.dispose();
  }
}

describe('the Docker engine lost under a running orchestrator', () => {
  it(
    'a stopped engine (SIGTERM: it stops the containers first) is recorded as ENGINE_LOST, not a crash',
    { skip },
    () => loseAndRegainEngine((engine) => engine.stop()),
  );
});
