import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { REPO_ROOT, testLogger } from './test-orchestrator.ts';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
/** A verify run that takes longer than this is killed, so that a hung test cannot hang CI. */
const RUN_TIMEOUT_MS = 240_000;

/** `verify --json`'s report, as the tests read it. */
export interface JsonReport {
  id: string;
  exitCode: number;
  engine: string;
  'classtop-verify': Record<string, JsonCheck[]>;
}
export interface JsonCheck {
  severity: string;
  title: string;
  detail: string;
  name: string;
  file?: string;
  line?: number;
}

export interface VerifyRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `classtop-sandbox verify ARGS` as a real process in `cwd`; `onStderr` sees its progress as it
 * comes (to send it a signal at a chosen step).
 */
export function runVerify(
  args: string[],
  cwd: string,
  onStderr?: (soFar: string, pid: number) => void,
): Promise<VerifyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'verify', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, child.pid as number);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a verify run left behind: its containers, its files, a process still naming them, its shm directory. */
export async function verifyLeftovers(run: VerifyRun) {
  const named = /\(orchestrator (verify-[0-9a-f]+), files in (\S+)\)/.exec(run.stderr);
  if (!named) return { ran: false, containers: [], directory: false, processes: [], shm: false };
  const [, id, dir] = named as unknown as [string, string, string];
  const runtime = new DockerSandboxRuntime(testLogger());
  return {
    ran: true,
    containers: (await runtime.listManaged(id)).map((c) => c.name),
    directory: existsSync(dir),
    processes: processesNaming(dir),
    shm: existsSync(`/dev/shm/classtop-${id}`),
  };
}

/** Pids whose command line names `text` (a redis-server on the run's socket, say). */
function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
