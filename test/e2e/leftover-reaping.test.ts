import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { EXAMPLES, startTestOrchestrator, testLogger, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

describe('at start-up the orchestrator removes what an earlier run left behind', () => {
  let crashed: TestOrchestrator;
  let restarted: Orchestrator;

  after(async () => {
    await restarted?.stop();
    await crashed?.stop();
  });

  it('finds the earlier containers by label and removes them with their sockets and shm', async () => {
    crashed = await startTestOrchestrator([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }]);
    const { config, runtime } = crashed;
    const old = crashed.status('school-a', 'com.example.hello-world');
    const oldShm = path.join(config.shmDir, config.orchestratorId, old.instanceId);
    assert.ok(existsSync(oldShm));

    // As after a crash: the first orchestrator is abandoned, a second starts with the same id.
    restarted = new Orchestrator(config, testLogger());
    const redisUrl = `redis+unix://${(crashed.redis.options as { path: string }).path}`;
    await restarted.start(redisUrl);

    const now = await leftovers(config, runtime);
    const fresh = restarted.list()[0];
    assert.equal(fresh?.state, 'ENABLED');
    assert.equal(now.containers.length, 1, 'exactly one container for the one plugin');
    assert.ok(
      !(await runtime.listManaged(config.orchestratorId)).some((c) => c.id === old.containerId),
      'the old container is gone',
    );
    assert.ok(!existsSync(oldShm), "the old instance's shm directory is gone");
    assert.deepEqual(now.shmDirs, [fresh?.instanceId]);
  });
});
