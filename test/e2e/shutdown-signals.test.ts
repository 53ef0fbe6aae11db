import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, type SandboxConfig } from '../../src/config/index.ts';
import type { PluginStatus } from '../../src/orchestrator/index.ts';
import { LABELS } from '../../src/sandbox/index.ts';
import { unmountUnder } from '../helpers/mounts.ts';
import { alive } from '../helpers/processes.ts';
import { testPort } from '../helpers/orchestrator-process.ts';
import { pollUntil } from '../helpers/poll.ts';
import { EXAMPLES, REPO_ROOT, writeTestConfig } from '../helpers/test-orchestrator.ts';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const POLL_MS = 200;
const MAX_POLLS = 300;
/** Generous: a clean shutdown of one plugin takes a few seconds; the old failure took all of it. */
const SHUTDOWN_TIMEOUT_MS = 45_000;

/**
 * `classtop-sandbox up` leading its own process group, as a shell starts a foreground job: a
 * signal to the group reaches it and every child it did not move out of the group.
 */
class ForegroundJob {
  readonly child: ChildProcess;
  readonly config: SandboxConfig;
  readonly admin = `127.0.0.1:${testPort()}`;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  readonly root: string;
  /** How the orchestrator's command line reads (pgrep -f). */
  private readonly commandLine: string;

  /** `onTerminal`: run in a real pseudo-terminal (script(1)), whose closing is a real hangup. */
  constructor(root: string, file: string, onTerminal: boolean) {
    this.root = root;
    this.config = loadConfig(file, {});
    this.commandLine = `${process.execPath} ${CLI} up --config ${file}`;
    const env = { ...process.env, CLASSTOP_ADMIN_LISTEN: this.admin };
    this.child = onTerminal
      ? spawn('script', ['-qfec', this.commandLine, '/dev/null'], { env, stdio: 'pipe', detached: true })
      : spawn(process.execPath, [CLI, 'up', '--config', file], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static start(onTerminal = false): ForegroundJob {
    const { file, root } = writeTestConfig([{ id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] }], {
      logLevel: 'info',
      shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    });
    return new ForegroundJob(root, file, onTerminal);
  }

  async plugins(): Promise<PluginStatus[]> {
    try {
      const response = await fetch(`http://${this.admin}/v1/plugins`);
      return response.ok ? ((await response.json()) as PluginStatus[]) : [];
    } catch {
      return []; // not listening yet
    }
  }

  async waitUntilEnabled(): Promise<void> {
    const listed = await pollUntil(
      () => this.plugins(),
      (plugins) => plugins[0]?.state === 'ENABLED',
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(listed[0]?.state, 'ENABLED', `${JSON.stringify(listed)}\n${this.stderr}`);
  }

  /** The pid of this run's embedded redis-server, found by its socket path (unique per run). */
  redisPid(): number {
    const socket = path.join(this.config.stateDir, this.config.orchestratorId, 'redis', 'redis.sock');
    // redis-server names itself by its socket; its watchdog shell has the same words in its arguments.
    const pids = execFileSync('pgrep', ['-f', `^redis-server unixsocket:${socket}$`])
      .toString()
      .trim()
      .split('\n');
    assert.equal(pids.length, 1, `one redis-server on ${socket}: ${pids.join(', ')}`);
    return Number(pids[0]);
  }

  /** The orchestrator's own pid (under script(1) it is not the child's). */
  orchestratorPid(): number {
    const pids = execFileSync('pgrep', ['-fx', this.commandLine]).toString().trim().split('\n');
    assert.equal(pids.length, 1, `one orchestrator: ${pids.join(', ')}`);
    return Number(pids[0]);
  }

  /** A signal to the whole process group, as a terminal's Ctrl-C or a supervisor's group stop. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-(this.child.pid as number), signal);
  }

  containers(): string[] {
    const out = execFileSync('docker', [
      'ps',
      '-aq',
      '--filter',
      `label=${LABELS.managed}=true`,
      '--filter',
      `label=${LABELS.orchestrator}=${this.config.orchestratorId}`,
    ]);
    return out.toString().split('\n').filter(Boolean);
  }

  /** Everything a test run may have left, whatever happened to the process. */
  cleanUp(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    for (const pattern of [this.commandLine, `redis-server.*${this.root}`]) {
      try {
        execFileSync('pkill', ['-KILL', '-f', pattern], { stdio: 'ignore' });
      } catch {
        // none left: the expected case
      }
    }
    const left = this.containers();
    if (left.length > 0) execFileSync('docker', ['rm', '-f', ...left], { stdio: 'ignore' });
    // A killed orchestrator leaves its instances' tmpfs directories mounted.
    unmountUnder(this.config.shmDir);
    unmountUnder(this.root);
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.config.shmDir, { recursive: true, force: true });
  }
}

/** Whether the orchestrator's log has a line with `msg` (and, if given, the plugin's message). */
function logged(stdout: string, msg: string, pluginMessage?: string): boolean {
  return stdout.split('\n').some((line) => {
    if (!line.startsWith('{')) return false;
    const entry = JSON.parse(line) as { msg?: string; plugin?: { message?: string } };
    return entry.msg === msg && (pluginMessage === undefined || entry.plugin?.message === pluginMessage);
  });
}

async function assertCleanShutdown(job: ForegroundJob, redisPid: number): Promise<void> {
  const code = await job.exited;
  assert.equal(code, 0, `exit code; stderr:\n${job.stderr}`);
  assert.ok(logged(job.stdout, 'plugin log', 'hello world disabled'), "the plugin's onDisable ran to its end");
  assert.deepEqual(job.containers(), [], 'no container of this run is left');
  const { runtimeDir, shmDir, orchestratorId } = job.config;
  const socketDirs = path.join(runtimeDir, orchestratorId);
  const instanceDirs = existsSync(socketDirs) ? execFileSync('ls', [socketDirs]).toString().split('\n') : [];
  assert.deepEqual(
    instanceDirs.filter((name) => name && !name.endsWith('.sock')),
    [],
    'no socket directory is left',
  );
  assert.equal(existsSync(path.join(shmDir, orchestratorId)), false, 'no shm directory is left');
  assert.equal(alive(redisPid), false, 'the embedded redis-server was stopped');
  assert.ok(logged(job.stdout, 'embedded redis-server stopped'), 'redis-server stopped last, after the plugins');
}

describe('a signal to the process group of `classtop-sandbox up`', () => {
  const jobs: ForegroundJob[] = [];
  after(() => jobs.forEach((job) => job.cleanUp()));

  const senders = {
    SIGINT: 'Ctrl-C',
    SIGTERM: "a supervisor's stop",
    SIGHUP: 'its terminal closing',
    SIGQUIT: 'Ctrl-\\',
  } as const;
  for (const [signal, sender] of Object.entries(senders) as Array<[keyof typeof senders, string]>) {
    it(`${signal} to the group (${sender}) disables the plugins, removes everything, stops Redis last`, async () => {
      const job = ForegroundJob.start();
      jobs.push(job);
      await job.waitUntilEnabled();
      const redisPid = job.redisPid();
      job.signalGroup(signal);
      await assertCleanShutdown(job, redisPid);
    });
  }

  it('the terminal closing (a real pseudo-terminal hung up) disables the plugins and removes everything', async () => {
    const job = ForegroundJob.start(true);
    jobs.push(job);
    await job.waitUntilEnabled();
    const [redisPid, orchestratorPid] = [job.redisPid(), job.orchestratorPid()];
    job.child.kill('SIGKILL'); // script(1) gone: the kernel hangs up its terminal's session
    const gone = await pollUntil(
      () => alive(orchestratorPid),
      (running) => !running,
      {
        intervalMs: POLL_MS,
        maxPolls: MAX_POLLS,
      },
    );
    assert.equal(gone, false, 'the orchestrator exited after the hangup');
    // Its log went to the terminal, which is gone: what it left is what tells.
    assert.deepEqual(job.containers(), [], 'no container of this run is left');
    assert.equal(existsSync(path.join(job.config.shmDir, job.config.orchestratorId)), false, 'no shm directory');
    assert.equal(alive(redisPid), false, 'the embedded redis-server was stopped');
  });

  it('a second Ctrl-C while shutting down says what it does and the shutdown still finishes cleanly', async () => {
    const job = ForegroundJob.start();
    jobs.push(job);
    await job.waitUntilEnabled();
    const redisPid = job.redisPid();
    job.signalGroup('SIGINT');
    const stopping = await pollUntil(
      () => job.stdout,
      (out) => logged(out, 'shutting down'),
      { intervalMs: 20, maxPolls: 1_000 },
    );
    assert.ok(logged(stopping, 'shutting down'));
    job.signalGroup('SIGINT');
    await assertCleanShutdown(job, redisPid);
    assert.match(job.stderr, /already stopping/);
  });

  it('SIGKILL of the orchestrator alone does not leave its redis-server running', async () => {
    const job = ForegroundJob.start();
    jobs.push(job);
    await job.waitUntilEnabled();
    const redisPid = job.redisPid();
    job.child.kill('SIGKILL');
    await job.exited;
    const gone = await pollUntil(() => !alive(redisPid), Boolean, { intervalMs: POLL_MS, maxPolls: MAX_POLLS });
    assert.ok(gone, 'the redis-server of a killed orchestrator exits by itself');
  });
});
