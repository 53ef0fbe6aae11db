import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SandboxError } from '../errors/index.ts';

const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const STOP_TIMEOUT_MS = 5_000;

/**
 * A private `redis-server` child process on a unix socket: the embedded default when no Redis URL
 * is configured, and each test's own Redis. Its data lives in `dataDir` (kept across restarts when
 * the caller names one; a temporary directory removed on stop otherwise).
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
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
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
        reject(new SandboxError('INTERNAL_ERROR', `redis-server exited with code ${code} during start-up`)),
      );
    });
    await Promise.race([this.waitUntilReady(), spawnFailure]);
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const probe = new Redis({
        path: this.socketPath,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined); // expected until the server listens
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      } finally {
        probe.disconnect();
      }
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

  private async killChild(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }
}
