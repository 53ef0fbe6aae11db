import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SandboxError } from '../errors/index.ts';

const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const STOP_TIMEOUT_MS = 5_000;
/** The shell's exit status for a command it cannot find. */
const SHELL_NOT_FOUND = 127;

/**
 * Runs redis-server (its arguments are the script's) under a watchdog shell that the caller
 * starts in a session of its own, so a signal to the caller's process group (a terminal's
 * Ctrl-C, a supervisor's group SIGTERM) does not reach Redis: the caller still needs it to
 * disable its plugins, and stops it last. The watchdog stops Redis (SIGTERM, so it saves its
 * append-only file) when its stdin, a pipe from the caller, closes: when the caller asks
 * (`stop()`), and when the caller dies, even by SIGKILL. It exits with Redis's status.
 */
const WATCHDOG_SCRIPT = `
exec 3<&0
redis-server "$@" </dev/null 3<&- &
redis=$!
trap 'kill -TERM "$redis" 2>/dev/null' TERM INT HUP
# Background jobs get /dev/null as stdin: the watcher reads the pipe through fd 3.
(while read -r _; do :; done <&3; kill -TERM "$redis") &
watcher=$!
wait "$redis"
status=$?
# A trapped signal ends the first wait early: wait for Redis to finish its own shutdown.
while kill -0 "$redis" 2>/dev/null; do wait "$redis"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * A private `redis-server` child process on a unix socket: the embedded default when no Redis URL
 * is configured, and each test's own Redis. Its data lives in `dataDir` (kept across restarts when
 * the caller names one; a temporary directory removed on stop otherwise). It runs in a session of
 * its own under a watchdog (WATCHDOG_SCRIPT): out of reach of the caller's Ctrl-C, gone with the
 * caller.
 */
export class EmbeddedRedis {
  readonly url: string;
  readonly socketPath: string;
  private readonly dataDir: string;
  private readonly ownsDataDir: boolean;
  private child: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(dataDir: string, ownsDataDir: boolean) {
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.socketPath = path.join(dataDir, 'redis.sock');
    this.url = `redis+unix://${this.socketPath}`;
  }

  /** Starts redis-server and waits until it answers PING. */
  static async start(dataDir?: string): Promise<EmbeddedRedis> {
    const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'classtop-redis-'));
    const redis = new EmbeddedRedis(dir, dataDir === undefined);
    await redis.spawn();
    return redis;
  }

  private async spawn(): Promise<void> {
    const args = ['--port', '0', '--unixsocket', this.socketPath, '--unixsocketperm', '700'];
    args.push('--dir', this.dataDir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no');
    await this.refuseIfServed();
    const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'redis-watchdog', ...args], {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true,
    });
    this.child = child;
    const spawnFailure = new Promise<never>((_, reject) => {
      child.once('error', (err) =>
        reject(
          new SandboxError(
            'INTERNAL_ERROR',
            `cannot start redis-server (install it: apt-get install redis-server): ${err.message}`,
          ),
        ),
      );
      child.once('exit', (code) =>
        reject(
          new SandboxError(
            'INTERNAL_ERROR',
            code === SHELL_NOT_FOUND
              ? 'redis-server is not installed: apt-get install redis-server (or set redis.url)'
              : `redis-server exited with code ${code} during start-up (data directory ${this.dataDir})`,
          ),
        ),
      );
    });
    await Promise.race([this.waitUntilReady(), spawnFailure]);
  }

  /**
   * A server already answering on this socket serves the same data directory (another process
   * with this orchestrator id, or one whose watchdog was killed with it): a second one would
   * write the same append-only file, so start-up stops with what to do.
   */
  private async refuseIfServed(): Promise<void> {
    if (!(await this.answers())) return;
    throw new SandboxError(
      'ALREADY_EXISTS',
      `a redis-server already answers on ${this.socketPath}: another orchestrator with this orchestratorId runs, ` +
        `or an earlier one left its Redis behind; stop that process (\`pgrep -af ${this.socketPath}\`) and start again`,
    );
  }

  private async answers(): Promise<boolean> {
    const probe = new Redis({
      path: this.socketPath,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined); // expected while no server listens
    try {
      await probe.connect();
      await probe.ping();
      return true;
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await this.answers()) return;
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    throw new SandboxError(
      'INTERNAL_ERROR',
      `redis-server did not answer on ${this.socketPath} within ${READY_TIMEOUT_MS} ms`,
    );
  }

  /** Stops the server and starts it again on the same data directory and socket (data kept). */
  async restart(): Promise<void> {
    await this.killChild();
    await this.spawn();
  }

  /** Stops the server (idempotent) and removes a temporary data directory. */
  stop(): Promise<void> {
    this.stopping ??= this.terminate();
    return this.stopping;
  }

  private async terminate(): Promise<void> {
    await this.killChild();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Closes the watchdog's stdin, which stops Redis; after STOP_TIMEOUT_MS, SIGKILL to the
   * watchdog's whole process group (the watchdog and Redis).
   */
  private async killChild(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin?.end();
      const timer = setTimeout(() => killGroup(child), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}
