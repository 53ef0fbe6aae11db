import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type SandboxConfig } from '../../src/config/index.ts';
import { testPort } from './orchestrator-process.ts';
import { pollUntil } from './poll.ts';
import { REPO_ROOT } from './test-orchestrator.ts';

const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const POLL_MS = 100;
/** Bounded: 60 s at most for any one step (a start, a reload). */
const MAX_POLLS = 600;
/** How long a cleanup waits for a session to stop by itself before killing it. */
const STOP_WAIT_MS = 30_000;

/**
 * `classtop-sandbox dev DIR` as its own process, as an author runs it, with TMPDIR pointed at a
 * directory the test owns: the session's directory (config, Redis, copies) is made there, so the
 * test can read the session's config and check that nothing is left.
 */
export class DevProcess {
  readonly child: ChildProcess;
  readonly admin = `127.0.0.1:${testPort()}`;
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';

  /** `extraArgs`: more options of `dev`, e.g. `--image` for a C++ plugin's builder. */
  constructor(directory: string, lentConfig: string, tmp: string, extraArgs: string[] = []) {
    const args = [CLI, 'dev', directory, '--admin', this.admin, '--config', lentConfig, ...extraArgs];
    this.child = spawn(process.execPath, args, {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The session's config, read from the directory it made under `tmp` (while it runs). */
  static sessionConfig(tmp: string): SandboxConfig {
    const [session] = readdirSync(tmp).filter((name) => name.startsWith('classtop-dev-'));
    if (!session) throw new Error(`no session directory in ${tmp}`);
    return loadConfig(path.join(tmp, session, 'dev-config.yaml'), {});
  }

  /** Waits (bounded) until stderr holds `count` matches of `pattern`; returns stderr. */
  async said(pattern: RegExp, count = 1): Promise<string> {
    const matches = () => this.stderr.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
    await pollUntil(
      () => matches() >= count || this.child.exitCode !== null,
      (done) => done,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    if (matches() < count) throw new Error(`dev never said ${pattern} (${count}×); stderr:\n${this.stderr}`);
    return this.stderr;
  }

  /** Calls an exported function through the admin API, as `classtop-sandbox call` does. */
  async call(tenantPlugin: string, fn: string, body: unknown = {}): Promise<{ status: number; body: unknown }> {
    const [tenant, plugin] = tenantPlugin.split('/') as [string, string];
    const response = await fetch(`http://${this.admin}/v1/plugins/${tenant}/${plugin}/functions/${fn}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  /**
   * Cleanup after a failed test: SIGTERM, so the session removes its containers, and SIGKILL if it
   * has not exited within STOP_WAIT_MS.
   */
  async stop(): Promise<void> {
    this.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)));
    await Promise.race([this.exited, late]);
    clearTimeout(timer);
    this.kill('SIGKILL');
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}
