import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXAMPLES, startTestOrchestrator } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const HELLO = 'com.example.hello-world';
const POLL_MS = 200;
const MAX_POLLS = 300;
const DOCKERD_LOG = '/var/log/classtop-dockerd.log';

function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  if (!(await pollUntil(condition, Boolean, { intervalMs: POLL_MS, maxPolls: MAX_POLLS })))
    throw new Error(`timed out waiting for ${what}`);
}

function engineProcessGone(): boolean {
  try {
    execFileSync('pgrep', ['-x', 'dockerd'], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
}

/** Starts dockerd the way scripts/setup.sh does, once the old one has fully exited. */
async function startEngine(): Promise<void> {
  await until(engineProcessGone, 'the old engine process to exit');
  const binary = execFileSync('bash', ['-c', 'command -v dockerd']).toString().trim();
  const log = openSync(DOCKERD_LOG, 'a');
  const child = spawn(binary, [], { detached: true, stdio: ['ignore', log, log] });
  child.on('error', () => undefined); // reported by the wait below
  child.unref();
}

const isRoot = process.getuid?.() === 0;

describe('the Docker engine restarted under a running orchestrator', () => {
  it(
    'restarts the plugins whose containers went away with it',
    { skip: !isRoot && 'restarting dockerd needs root' },
    async () => {
      const t = await startTestOrchestrator([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }], {
        config: {
          supervision: {
            restartInitialMs: 200,
            restartMaxMs: 2_000,
            healthIntervalMs: 300,
            healthTimeoutMs: 500,
            unhealthyAfter: 3,
          },
        },
      });
      try {
        const before = t.status('school-a', HELLO);
        assert.equal(before.state, 'ENABLED');
        try {
          execFileSync('pkill', ['-TERM', '-x', 'dockerd']);
          await until(() => !engineAnswers(), 'the engine to stop');
        } finally {
          // Whatever happened above, the engine comes back for the tests after this one.
          startEngine();
          await until(engineAnswers, 'the engine to answer again');
        }
        const status = await pollUntil(
          () => t.status('school-a', HELLO),
          (s) => s.state === 'ENABLED' && s.restarts >= 1,
          { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
        );
        assert.equal(status.state, 'ENABLED', status.lastError ?? '');
        assert.ok(status.restarts >= 1);
        assert.notEqual(status.containerId, before.containerId);
        const running = (await t.runtime.listManaged(t.config.orchestratorId)).filter((c) => c.state === 'running');
        assert.equal(running.length, 1, 'exactly one running container');
      } finally {
        await t.stop();
      }
    },
  );
});
