import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { CPP_IMAGE, exampleTrust, NODE_IMAGE, PYTHON_IMAGE, REPO_ROOT, testLogger } from './test-orchestrator.ts';
import { parseXml, type XmlElement } from './xml-tree.ts';

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

/**
 * A scratch directory with the configs verify tests lend (`config.yaml`, `no-engine.yaml`,
 * `no-engine-no-trust.yaml`), and the runs made in it by name, with their reports read back.
 */
export class VerifySession {
  readonly scratch = mkdtempSync(path.join(tmpdir(), 'ct-verify-e2e-'));
  private readonly runs = new Map<string, VerifyRun>();

  constructor() {
    const config = (extra: Record<string, unknown>, trust = true) =>
      stringify({
        images: { node: NODE_IMAGE, python: PYTHON_IMAGE, cpp: CPP_IMAGE },
        startTimeoutMs: 60_000,
        tenants: [{ id: 'ci', ...(trust ? { trust: exampleTrust() } : {}) }],
        ...extra,
      });
    writeFileSync(this.file('config.yaml'), config({}));
    writeFileSync(this.file('no-engine.yaml'), config({ dockerSocket: this.file('nothing-listens.sock') }));
    writeFileSync(
      this.file('no-engine-no-trust.yaml'),
      config({ dockerSocket: this.file('nothing-listens.sock') }, false),
    );
  }

  file(name: string): string {
    return path.join(this.scratch, name);
  }

  /** `verify SOURCE --config CFG --junit NAME.xml EXTRA…`, kept as `name`. */
  async verify(name: string, source: string, extra: string[] = [], cfg = 'config.yaml'): Promise<void> {
    this.runs.set(name, await runVerify([source, '--config', cfg, '--junit', `${name}.xml`, ...extra], this.scratch));
  }

  run(name: string): VerifyRun {
    return this.runs.get(name) as VerifyRun;
  }

  /** Every run so far, by name. */
  all(): Array<[string, VerifyRun]> {
    return [...this.runs];
  }

  json(name: string): JsonReport {
    return JSON.parse(this.run(name).stdout) as JsonReport;
  }

  junit(name: string): XmlElement {
    return parseXml(readFileSync(this.file(`${name}.xml`), 'utf8'));
  }

  remove(): void {
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
