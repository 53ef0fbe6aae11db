import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, type SandboxConfig } from '../../src/config/index.ts';
import type { JobView } from '../../src/lifecycle/index.ts';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { EmbeddedRedis } from '../../src/redis/index.ts';
import { DockerSandboxRuntime, LABELS } from '../../src/sandbox/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { OrchestratorProcess, testPort } from '../helpers/orchestrator-process.ts';
import { EXAMPLES, exampleTrust, FIXTURES, testLogger, writeTestConfig } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const COUNTER = 'com.test.counter';
const HELLO = 'com.example.hello-world';
const FAST_LOCKS = { jobLockMs: 2_000, pluginLockMs: 2_000, busyRetryMs: 100 };
const SAMPLE_MS = 50;
const POLL_MS = 100;
const MAX_POLLS = 300;
const JOB_TIMEOUT_MS = 90_000;

const runtime = new DockerSandboxRuntime(testLogger());

/** Containers of `pluginId` across the given orchestrators. */
async function containersOf(pluginId: string, ...orchestratorIds: string[]): Promise<number> {
  const all = await Promise.all(orchestratorIds.map((id) => runtime.listManaged(id)));
  return all.flat().filter((c) => c.labels[LABELS.pluginId] === pluginId && c.state === 'running').length;
}

describe('several orchestrator processes on one Redis', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function setup(tenantPlugins: string[], extra: Record<string, unknown>) {
    const redis = await EmbeddedRedis.start();
    cleanups.push(() => redis.stop());
    const tenants = [{ id: 'school-a', trust: exampleTrust({ allowUnsigned: true }), plugins: tenantPlugins }];
    const configs: SandboxConfig[] = [];
    const files: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { file, root } = writeTestConfig(tenants, { redis: { url: redis.url }, lifecycle: FAST_LOCKS, ...extra });
      const config = loadConfig(file, {});
      cleanups.push(() => rmSync(root, { recursive: true, force: true }));
      cleanups.push(() => rmSync(config.shmDir, { recursive: true, force: true }));
      configs.push(config);
      files.push(file);
    }
    return { redis, configs, files };
  }

  it('share the jobs and never run one plugin twice, even under concurrent restarts', async () => {
    const { redis, configs } = await setup([path.join(EXAMPLES, 'hello-world'), path.join(FIXTURES, 'counter')], {});
    const [configA, configB] = configs as [SandboxConfig, SandboxConfig];
    const a = new Orchestrator(configA, testLogger());
    cleanups.push(() => a.stop());
    await a.start(redis.url);
    const b = new Orchestrator(configB, testLogger());
    cleanups.push(() => b.stop());
    await b.start(redis.url);

    const ids = [configA.orchestratorId, configB.orchestratorId];
    assert.equal(await containersOf(HELLO, ...ids), 1);
    assert.equal(await containersOf(COUNTER, ...ids), 1);
    assert.equal(b.find('school-a', COUNTER).status().owner, configA.orchestratorId);

    let sampling = true;
    let most = 0;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await containersOf(COUNTER, ...ids));
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      }
    })();
    const jobs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? a : b).submit({ action: 'restart', tenant: 'school-a', pluginId: COUNTER, cause: `test ${i}` }),
      ),
    );
    const finished = await Promise.all(jobs.map((id) => a.waitForJob(id, JOB_TIMEOUT_MS)));
    sampling = false;
    await sampler;
    assert.deepEqual(
      finished.map((j) => j.state),
      Array(6).fill('completed'),
    );
    assert.ok(most <= 1, `at most one counter container at any time (saw ${most})`);
    assert.equal(await containersOf(COUNTER, ...ids), 1);
    assert.equal(a.find('school-a', COUNTER).status().restarts, 6, 'the owner ran every restart');
  });

  it('kill -9 in the middle of a reload, then restart: the job completes, with exactly one container', async () => {
    const slow = path.join(mkdtempSync(path.join(tmpdir(), 'ct-slow-')), 'counter-v2');
    cleanups.push(() => rmSync(path.dirname(slow), { recursive: true, force: true }));
    cpSync(path.join(FIXTURES, 'counter'), slow, { recursive: true });
    const yamlFile = path.join(slow, 'plugin.yaml');
    writeFileSync(yamlFile, readFileSync(yamlFile, 'utf8').replace('version: 1.0.0', 'version: 2.0.0'));
    // Loading takes a while, so that the kill lands while the new version starts.
    const entry = path.join(slow, 'index.js');
    writeFileSync(entry, `await new Promise((resolve) => setTimeout(resolve, 3000));\n${readFileSync(entry, 'utf8')}`);

    const { redis, configs, files } = await setup([path.join(FIXTURES, 'counter')], {});
    const config = configs[0] as SandboxConfig;
    const port = testPort();
    const first = new OrchestratorProcess(files[0] as string, { CLASSTOP_ADMIN_LISTEN: `127.0.0.1:${port}` });
    cleanups.push(() => first.kill('SIGKILL'));
    await first.waitFor((plugins) => plugins[0]?.state === 'ENABLED');
    const base = `http://127.0.0.1:${port}`;
    const { body } = await admin<{ jobId: string }>(base, 'POST', `/v1/plugins/school-a/${COUNTER}/reload`, {
      bundle: slow,
    });
    const job = await pollUntil(
      async () => (await admin<JobView>(base, 'GET', `/v1/jobs/${body.jobId}`)).body,
      (j) => j.progress?.step === 'starting the new version',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(job?.state, 'active');
    first.kill('SIGKILL');
    await first.exited;

    const restarted = new Orchestrator(config, testLogger());
    cleanups.push(() => restarted.stop());
    await restarted.start(redis.url);
    const done = await restarted.waitForJob(body.jobId, JOB_TIMEOUT_MS);
    assert.equal(done.state, 'completed', done.failedReason ?? '');
    const status = restarted.find('school-a', COUNTER).status();
    assert.deepEqual([status.state, status.version], ['ENABLED', '2.0.0']);
    assert.equal(await containersOf(COUNTER, config.orchestratorId), 1, 'exactly one container');
    assert.equal((await runtime.listManaged(config.orchestratorId)).length, 1, 'nothing orphaned');
  });
});
