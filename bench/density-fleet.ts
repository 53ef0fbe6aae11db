/**
 * A fleet for the density and cold-start benchmarks: N copies of the density fixtures (each under
 * its own plugin id) across four tenants, run by `classtop-sandbox up` in a child process of its
 * own, so that its RSS, CPU and CPU profile are the orchestrator's alone and the load reaches it as
 * an operator's would, through the admin API. Everything it makes (containers, sockets, shm, the
 * embedded Redis, the scratch directory) is removed by stop(), and on SIGINT/SIGTERM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { LABELS } from '../src/sandbox/index.ts';
import { CPP_IMAGE, FIXTURES, NODE_IMAGE, PYTHON_IMAGE, REPO_ROOT } from '../test/helpers/test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const TENANTS = 4;
/** The fixture each runtime's plugins are copies of. */
const FIXTURE: Record<Runtime, string> = { node: 'density', python: 'py-density' };
const STOP_TIMEOUT_MS = 120_000;
const POLL_MS = 50;

export type Runtime = 'node' | 'python';
export interface FleetPlugin {
  tenant: string;
  pluginId: string;
  runtime: Runtime;
}

export interface FleetOptions {
  mix: Record<Runtime, number>;
  /** Extra plugins (cold-start's), in a tenant `cold` of their own; enabled at start-up like the rest. */
  extra?: Array<{ pluginId: string; runtime: Runtime }>;
  /** Directory for `node --cpu-prof` of the orchestrator, when profiling. */
  cpuProfDir?: string;
  /** The orchestrator's log (warnings and errors, JSON lines), kept after the run. */
  logFile: string;
  startTimeoutMs: number;
}

export interface Fleet {
  plugins: FleetPlugin[];
  adminUrl: string;
  orchestratorId: string;
  pid: number;
  /** Spawn → admin API answering, which `up` opens once every start-up enable job settled. */
  startedMs: number;
  stop(): Promise<void>;
}

/** `node=150,python=30` → counts per runtime. */
export function parseMix(text: string): Record<Runtime, number> {
  const mix: Record<Runtime, number> = { node: 0, python: 0 };
  for (const part of text.split(',')) {
    const [name, count] = part.split('=');
    if (!(name === 'node' || name === 'python') || !Number.isInteger(Number(count)))
      throw new Error(`--mix: '${part}' is not RUNTIME=COUNT with RUNTIME node or python (e.g. node=150,python=50)`);
    mix[name] = Number(count);
  }
  return mix;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A copy of a runtime's fixture under `pluginId`, in `dir`. */
function bundle(dir: string, runtime: Runtime, pluginId: string): string {
  const target = path.join(dir, pluginId);
  cpSync(path.join(FIXTURES, FIXTURE[runtime]), target, { recursive: true });
  const file = path.join(target, 'plugin.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}id: .*$/m, `  id: ${pluginId}`));
  return target;
}

function layout(options: FleetOptions, bundles: string): { plugins: FleetPlugin[]; tenants: object[] } {
  const plugins: FleetPlugin[] = [];
  for (const runtime of ['node', 'python'] as const)
    for (let i = 0; i < options.mix[runtime]; i++) {
      const tenant = `school-${plugins.length % TENANTS}`;
      plugins.push({ tenant, pluginId: `com.bench.${runtime}-${String(i).padStart(3, '0')}`, runtime });
    }
  const trust = { roots: [path.join(REPO_ROOT, 'examples/trust/ca/root.pem')], allowUnsigned: true };
  const perTenant = Math.max(1, Math.ceil(plugins.length / TENANTS));
  const quota = { plugins: perTenant, memoryMb: perTenant * 64, cpus: perTenant * 0.1 + 1 };
  const tenants: object[] = Array.from({ length: TENANTS }, (_, i) => ({
    id: `school-${i}`,
    trust,
    quota,
    plugins: plugins.filter((p) => p.tenant === `school-${i}`).map((p) => bundle(bundles, p.runtime, p.pluginId)),
  }));
  if (options.extra?.length)
    tenants.push({
      id: 'cold',
      trust,
      plugins: options.extra.map((p) => bundle(bundles, p.runtime, p.pluginId)),
    });
  return { plugins, tenants };
}

export async function adminJson<T>(adminUrl: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${adminUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${route}: HTTP ${response.status} ${JSON.stringify(json)}`);
  return json;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const root = mkdtempSync(path.join(tmpdir(), 'ct-density-'));
  const orchestratorId = `bench${process.pid}`;
  const { plugins, tenants } = layout(options, path.join(root, 'bundles'));
  const port = await freePort();
  const config = {
    orchestratorId,
    logLevel: 'warn',
    runtimeDir: path.join(root, 'run'),
    shmDir: `/dev/shm/classtop-bench-${orchestratorId}`,
    stateDir: path.join(root, 'state'),
    admin: { listen: `127.0.0.1:${port}` },
    startTimeoutMs: options.startTimeoutMs,
    images: { node: NODE_IMAGE, python: PYTHON_IMAGE, cpp: CPP_IMAGE },
    tenants,
  };
  const file = path.join(root, 'config.yaml');
  writeFileSync(file, stringify(config));
  const prof = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  const started = performance.now();
  const log = openSync(options.logFile, 'w');
  const child = spawn(process.execPath, [...prof, CLI, 'up', '--config', file], {
    stdio: ['ignore', log, 'inherit'],
    detached: true,
  });
  closeSync(log);
  const stop = once(() => stopFleet(child, orchestratorId, root, config.shmDir));
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const adminUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForAdmin(adminUrl, child, options.startTimeoutMs * 4 + 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { plugins, adminUrl, orchestratorId, pid: child.pid as number, startedMs: performance.now() - started, stop };
}

async function waitForAdmin(adminUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`classtop-sandbox up exited with ${child.exitCode} during start-up`);
    const ok = await fetch(`${adminUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`the orchestrator's admin API did not answer within ${timeoutMs} ms`);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** SIGTERM (every plugin disabled, containers removed), then removes by label whatever is left. */
async function stopFleet(child: ChildProcess, orchestratorId: string, root: string, shmDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  const label = `label=${LABELS.orchestrator}=${orchestratorId}`;
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', label]);
  const left = stdout.split('\n').filter(Boolean);
  if (left.length > 0) {
    process.stderr.write(`density: removing ${left.length} containers the orchestrator left\n`);
    await run('docker', ['rm', '-f', ...left]);
  }
  await unmountUnder([root, shmDir]);
  rmSync(root, { recursive: true, force: true });
  rmSync(shmDir, { recursive: true, force: true });
}

/**
 * The per-instance tmpfs mounts an orchestrator that did not finish its shutdown leaves under its
 * runtime and shm directories (seen after a SIGTERM during a 200-plugin start-up); only paths
 * under this run's own directories are touched.
 */
async function unmountUnder(dirs: string[]): Promise<void> {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((m) => dirs.some((d) => m.startsWith(`${d}/`)));
  if (mounts.length === 0) return;
  process.stderr.write(`density: unmounting ${mounts.length} mounts the orchestrator left\n`);
  for (const m of mounts.reverse()) await run('umount', [m]).catch(() => undefined);
}
