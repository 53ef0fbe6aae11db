import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { PluginStatus } from '../../src/orchestrator/index.ts';
import { REPO_ROOT } from './test-orchestrator.ts';
import { pollUntil } from './poll.ts';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const POLL_MS = 200;
const MAX_POLLS = 300;

/** `classtop-sandbox up` as its own process, as an operator runs it. */
export class OrchestratorProcess {
  readonly child: ChildProcess;
  readonly admin: string;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(configFile: string, env: NodeJS.ProcessEnv) {
    this.admin = env.CLASSTOP_ADMIN_LISTEN ?? '127.0.0.1:7070';
    this.child = spawn(process.execPath, [CLI, 'up', '--config', configFile], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async plugins(): Promise<PluginStatus[] | undefined> {
    try {
      const response = await fetch(`http://${this.admin}/v1/plugins`);
      return response.ok ? ((await response.json()) as PluginStatus[]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Polls the admin API until `done` holds (bounded); returns the last listing. */
  async waitFor(done: (plugins: PluginStatus[]) => boolean): Promise<PluginStatus[]> {
    const settled = (plugins: PluginStatus[]) => plugins.length > 0 && done(plugins);
    // A failed read (not listening yet) keeps the previous listing, for the error message.
    let previous: PluginStatus[] = [];
    const read = async () => (previous = (await this.plugins()) ?? previous);
    const last = await pollUntil(read, settled, { intervalMs: POLL_MS, maxPolls: MAX_POLLS });
    if (settled(last)) return last;
    throw new Error(`the orchestrator did not get there; last: ${JSON.stringify(last)}; stderr: ${this.stderr}`);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/** A loopback port for one test's admin API. */
export function testPort(): number {
  return 17_000 + Math.floor(Math.random() * 8_000);
}
