import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { Redis } from 'ioredis';
import { PluginStateStore } from '../../src/lifecycle/index.ts';
import { EmbeddedRedis } from '../../src/redis/index.ts';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { OrchestratorProcess, testPort } from '../helpers/orchestrator-process.ts';
import { EXAMPLES, testLogger, writeTestConfig } from '../helpers/test-orchestrator.ts';

describe('recovery after the orchestrator is killed with SIGKILL', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('restarts the plugins it ran: old containers, sockets and shm removed, exactly one container each', async () => {
    const redis = await EmbeddedRedis.start();
    cleanups.push(() => redis.stop());
    const { file, root } = writeTestConfig([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }], {
      redis: { url: redis.url },
    });
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const config = loadConfig(file, {});
    cleanups.push(() => rmSync(config.shmDir, { recursive: true, force: true }));
    const runtime = new DockerSandboxRuntime(testLogger());

    const first = new OrchestratorProcess(file, { CLASSTOP_ADMIN_LISTEN: `127.0.0.1:${testPort()}` });
    cleanups.push(() => first.kill('SIGKILL'));
    const [old] = await first.waitFor((plugins) => plugins[0]?.state === 'ENABLED');
    first.kill('SIGKILL');
    await first.exited;
    const oldShm = path.join(config.shmDir, config.orchestratorId, old?.instanceId as string);
    assert.ok(existsSync(oldShm), 'the killed process left its plugin behind');
    assert.equal((await leftovers(config, runtime)).containers.length, 1);

    const restarted = new Orchestrator(config, testLogger());
    cleanups.push(() => restarted.stop());
    await restarted.start(redis.url);
    const [fresh] = restarted.list();
    assert.equal(fresh?.state, 'ENABLED', fresh?.lastError ?? '');
    assert.match(fresh?.lastTransition?.reason ?? '', /enable \(start-up\)/);
    const client = new Redis({ path: redis.socketPath });
    cleanups.push(() => client.disconnect());
    const history = await new PluginStateStore(client).history('school-a', 'com.example.hello-world');
    assert.match(
      history.find((h) => h.to === 'ERROR')?.reason ?? '',
      /was ENABLED under orchestrator '.*', which stopped without disabling it; restarting it/,
    );
    assert.notEqual(fresh?.instanceId, old?.instanceId);
    const now = await leftovers(config, runtime);
    assert.equal(now.containers.length, 1, 'exactly one container for the one plugin');
    assert.ok(!(await runtime.listManaged(config.orchestratorId)).some((c) => c.id === old?.containerId));
    assert.ok(!existsSync(oldShm), "the old instance's shm directory is gone");
    assert.deepEqual(now.shmDirs, [fresh?.instanceId]);
  });
});
