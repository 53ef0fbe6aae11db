import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { unmountUnder } from './mounts.ts';
import { pollUntil } from './poll.ts';
import { alive } from './processes.ts';

/** Unix socket paths are limited to 108 bytes: the engine's files live under a short /tmp name. */
const ROOT_PREFIX = '/tmp/pe-';
const POLL_MS = 200;
/** dockerd starts in a second or two; its first start (a fresh data-root) may take longer. */
const START_POLLS = 300;
/** A stopping engine stops its containers first (10 s grace each, in parallel), then its containerd. */
const EXIT_TIMEOUT_MS = 60_000;
const PING_TIMEOUT_MS = 2_000;
const LOAD_TIMEOUT_MS = 300_000;

/**
 * A Docker engine of the test's own, beside the machine's (which a test must never stop): its own
 * socket, data-root, exec-root and pidfile under one short temporary directory, no bridge and no
 * iptables rules, in a network namespace of its own: a dockerd started with --bridge=none deletes
 * the host's docker0 as it starts, which breaks the machine's engine (its next `docker build`
 * finds no bridge). Plugin containers have no network anyway; the API socket is a file. It can be
 * stopped and started again on the same data-root, as an engine restart.
 */
export interface PrivateEngine {
  /** The API socket's path (config key `dockerSocket`). */
  readonly socketPath: string;
  /** For the docker CLI's --host. */
  readonly host: string;
  /** Copies images from the machine's engine, with the same ids and tags. */
  loadImages(references: string[]): void;
  /** Whether the engine answers a ping now. */
  answers(): Promise<boolean>;
  /** SIGTERM to the engine's pid; settles once it has exited (SIGKILL after EXIT_TIMEOUT_MS). */
  stop(): Promise<void>;
  /** Starts it again on the same data-root; settles once it answers. */
  start(): Promise<void>;
  /** Stops it, unmounts what it left mounted under its roots, removes every file; idempotent. */
  dispose(): Promise<void>;
}

export async function startPrivateEngine(): Promise<PrivateEngine> {
  const root = mkdtempSync(ROOT_PREFIX);
  const socketPath = path.join(root, 'd.sock');
  const host = `unix://${socketPath}`;
  const args = [
    `--host=${host}`,
    `--data-root=${path.join(root, 'data')}`,
    `--exec-root=${path.join(root, 'x')}`,
    `--pidfile=${path.join(root, 'd.pid')}`,
    '--bridge=none',
    '--iptables=false',
  ];
  const logFile = path.join(root, 'dockerd.log');
  let child: ChildProcess | undefined;
  const answers = () => ping(socketPath);

  const start = async () => {
    if (child) throw new Error('the private engine is already running');
    const log = openSync(logFile, 'a');
    // unshare execs dockerd: the child's pid is the engine's.
    const started = spawn('unshare', ['--net', '--', 'dockerd', ...args], { stdio: ['ignore', log, log] });
    closeSync(log);
    child = started;
    started.on('error', () => undefined); // seen as an exit below
    const up = await pollUntil(answers, (ok) => ok || started.exitCode !== null || started.signalCode !== null, {
      intervalMs: POLL_MS,
      maxPolls: START_POLLS,
    });
    if (!up) throw new Error(`the private dockerd did not answer at ${socketPath}; its log:\n${logTail(logFile)}`);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await stop();
    await stopOrphanContainerd(root);
    unmountUnder(root);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    socketPath,
    host,
    loadImages: (references) => references.forEach((reference) => loadImage(reference, host)),
    answers,
    stop,
    start,
    dispose,
  };
}

/** `docker save | docker --host … load`, then checks the id is the one the machine's engine has. */
function loadImage(reference: string, host: string): void {
  execFileSync(
    'bash',
    ['-o', 'pipefail', '-c', 'docker save -- "$1" | docker --host "$2" load -q', '_', reference, host],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: LOAD_TIMEOUT_MS,
    },
  );
  const id = (engineHost?: string) =>
    execFileSync('docker', [
      ...(engineHost ? ['--host', engineHost] : []),
      'image',
      'inspect',
      '--format',
      '{{.Id}}',
      reference,
    ])
      .toString()
      .trim();
  const [mine, loaded] = [id(), id(host)];
  if (mine !== loaded) throw new Error(`${reference} loaded as ${loaded}, not ${mine}`);
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A dockerd that died without stopping (SIGKILL) leaves the containerd it started running. */
async function stopOrphanContainerd(root: string): Promise<void> {
  const pidFile = path.join(root, 'x/containerd/containerd.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  await pollUntil(
    () => alive(pid),
    (running) => !running,
    { intervalMs: POLL_MS, maxPolls: EXIT_TIMEOUT_MS / POLL_MS },
  );
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
