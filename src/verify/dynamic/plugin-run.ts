import { isDeepStrictEqual } from 'node:util';
import { SandboxError } from '../../errors/index.ts';
import type { PluginStateStore } from '../../lifecycle/index.ts';
import type { PluginManifest, VerifyCall } from '../../manifest/index.ts';
import type { Orchestrator } from '../../orchestrator/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import { contains } from './contains.ts';
import type { UsageSampler } from './usage-sampler.ts';

/** How long a failed step waits for supervision to record a crash (the container's exit arrives asynchronously). */
const CRASH_SETTLE_MS = 5_000;
const CRASH_POLL_MS = 100;
/** How much of a result or a state a finding quotes. */
const QUOTE_CHARS = 400;
const CRASH_REASONS = new Set(['CRASHED', 'CRASH_LOOP', 'UNRESPONSIVE']);
/** Failures that are verify's own verdict on a plugin that answered. */
const VERDICTS = new Set(['STATE_LOST', 'CALL_UNEXPECTED']);

const lifecycle = resultsOf('lifecycle', 'dynamic');

export interface RunDeps {
  orchestrator: Orchestrator;
  store: PluginStateStore;
  sampler: UsageSampler;
  /** Aborted by SIGINT/SIGTERM: no further step starts, and a job being waited for is given up. */
  signal: AbortSignal;
}

/**
 * The lifecycle a host puts the plugin through, one reported step each: enable, each verify call,
 * save → reload → restore (the state must round-trip), disable. A crash ends the run; the steps
 * after it are skipped, and the crash is reported with its output.
 */
export class PluginRun {
  readonly results: CheckResult[] = [];
  crash: CheckResult | undefined;
  startMs: number | undefined;
  /** What onSave returned right after the first enable: a fresh instance's state. */
  private fresh: unknown;
  private readonly deps: RunDeps;
  private readonly tenant: string;
  private readonly manifest: PluginManifest;
  private readonly onResult: (result: CheckResult) => void;
  private stopped: string | undefined;

  constructor(deps: RunDeps, tenant: string, manifest: PluginManifest, onResult: (result: CheckResult) => void) {
    this.deps = deps;
    this.tenant = tenant;
    this.manifest = manifest;
    this.onResult = onResult;
  }

  async all(start: () => Promise<void>): Promise<void> {
    await this.step('enable', 'ENABLED', () => this.enable(start));
    const calls = this.manifest.verify?.calls ?? [];
    if (calls.length === 0)
      this.report(
        lifecycle.skipped(
          'NO_VERIFY_CALLS',
          'call exported functions',
          'plugin.yaml has no verify.calls: no exported function was called',
        ),
      );
    for (const call of calls) await this.step(`call ${call.function}`, 'CALL_OK', () => this.call(call));
    let saved: unknown;
    await this.step('reload: save', 'SAVED', async () => {
      saved = await this.save();
      await this.deps.sampler.sample(this.status().containerId);
      return `onSave returned ${quote(saved)}`;
    });
    await this.step('reload: hand-over', 'RELOADED', () => this.job('reload', 'ENABLED'));
    await this.step('reload: restore', 'STATE_ROUND_TRIP', () => this.restore(saved));
    await this.step('disable', 'DISABLED', () => this.job('disable', 'DISABLED'));
  }

  private async enable(start: () => Promise<void>): Promise<string> {
    await start();
    const status = this.status();
    if (status.state !== 'ENABLED')
      throw new SandboxError(
        'INTERNAL_ERROR',
        `${status.reason ?? 'ENABLE_FAILED'}: ${status.lastError ?? status.state}`,
      );
    this.startMs = await this.startTime();
    this.fresh = await this.save().catch(() => undefined);
    return `enabled in ${this.startMs ?? '?'} ms (enable job accepted → ENABLED: snapshot, verification, container, Register, onEnable)`;
  }

  private async call(call: VerifyCall): Promise<string> {
    const deadline = Date.now() + this.manifest.ipcTimeoutMs;
    const payload = Buffer.from(JSON.stringify(call.input ?? null));
    const answer = await this.plugin().callFunction(call.function, payload, deadline);
    const text = answer.toString('utf8');
    if (call.expect === undefined) return `returned ${quote(text)}`;
    let result: unknown;
    try {
      result = JSON.parse(text);
    } catch {
      throw new SandboxError('INVALID_REQUEST', `CALL_UNEXPECTED: returned ${quote(text)}, not JSON`);
    }
    if (!contains(result, call.expect))
      throw new SandboxError(
        'INVALID_REQUEST',
        `CALL_UNEXPECTED: expected ${quote(call.expect)}, got ${quote(result)}`,
      );
    return `returned ${quote(result)}, as expected`;
  }

  private async save(): Promise<unknown> {
    return JSON.parse((await this.plugin().saveState()).toString('utf8')) as unknown;
  }

  /**
   * The new instance's onSave against the old one's: equal is a round trip; a fresh instance's
   * state where the old one had moved on is state lost (onRestore ignored it); any other change is
   * onEnable's own work after onRestore (a counter of enables, say) and passes.
   */
  private async restore(before: unknown): Promise<string> {
    const after = await this.save();
    if (isDeepStrictEqual(before, after))
      return `the new instance's onSave returns what the old one's did: ${quote(after)}`;
    if (this.fresh !== undefined && isDeepStrictEqual(after, this.fresh) && !isDeepStrictEqual(before, this.fresh))
      throw new SandboxError(
        'INTERNAL_ERROR',
        `STATE_LOST: onSave returned ${quote(before)} before the reload, and a fresh instance's ${quote(after)} from the new one; onRestore must take back what onSave gave`,
      );
    return `carried over, then changed after onRestore (by onEnable): ${quote(before)} before, ${quote(after)} after`;
  }

  /** A lifecycle job through the orchestrator's queue, as an operator's would run. */
  private async job(action: 'reload' | 'disable', expected: string): Promise<string> {
    const { orchestrator } = this.deps;
    if (action === 'disable') await this.deps.sampler.sample(this.status().containerId);
    const id = await orchestrator.submit({ action, tenant: this.tenant, pluginId: this.manifest.id, cause: 'verify' });
    const view = await Promise.race([
      orchestrator.waitForJob(id, this.manifest.ipcTimeoutMs * 4),
      aborted(this.deps.signal),
    ]);
    const status = this.status();
    if (status.state !== expected)
      throw new SandboxError(
        'INTERNAL_ERROR',
        `${action}: the plugin is ${status.state}: ${status.lastError ?? view.failedReason ?? ''}`,
      );
    return `${action} job ${view.state}; the plugin is ${status.state}`;
  }

  private async step(name: string, okCode: string, work: () => Promise<string>): Promise<void> {
    if (this.deps.signal.aborted) this.stopped ??= 'verify was stopped by a signal';
    if (this.stopped) return this.report(lifecycle.skipped('NOT_REACHED', name, this.stopped));
    const started = performance.now();
    try {
      const detail = await work();
      this.report({
        ...lifecycle.ok(okCode, name, detail),
        durationMs: performance.now() - started,
      });
    } catch (err) {
      const { code, message } = describe(err);
      this.report({ ...lifecycle.error(code, `${name} failed`, message), durationMs: performance.now() - started });
      // A verdict on what the plugin answered is not a crash; anything else may be one.
      if (!VERDICTS.has(code)) await this.checkCrash();
      this.stopped ??= name === 'enable' ? 'the plugin did not enable' : undefined;
    }
  }

  /** After a failed step: a crash (or OOM kill) recorded by supervision ends the run. */
  private async checkCrash(): Promise<void> {
    const until = Date.now() + CRASH_SETTLE_MS;
    let status = this.status();
    while (!CRASH_REASONS.has(status.reason ?? '') && Date.now() < until && status.state !== 'DISABLED') {
      await new Promise((resolve) => setTimeout(resolve, CRASH_POLL_MS));
      status = this.status();
    }
    if (!CRASH_REASONS.has(status.reason ?? '')) return;
    const detail = status.lastError ?? status.reason ?? 'crashed';
    const oom = /out of memory/.test(detail);
    const crashes = resultsOf('crashes', 'dynamic');
    const memoryMb = this.manifest.sandbox.memoryMb;
    // verify allows one crash, so supervision calls any crash a crash loop: name what it was.
    if (oom)
      this.crash = crashes.error('OOM_KILLED', `killed for exceeding sandbox.memory_mb (${memoryMb} MiB)`, detail);
    else if (/stopped answering/.test(detail))
      this.crash = crashes.error('UNRESPONSIVE', 'the plugin stopped answering', detail);
    else this.crash = crashes.error('CRASHED', 'the plugin crashed', detail);
    this.stopped = `the plugin crashed (${this.crash.code})`;
  }

  /** From the enable job's acceptance to its end (the plugin ENABLED): the cold start a host sees. */
  private async startTime(): Promise<number | undefined> {
    const jobs = await this.deps.orchestrator.jobs();
    const job = jobs.find((j) => j.action === 'enable' && j.pluginId === this.manifest.id && j.finishedAt);
    return job?.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.createdAt) : undefined;
  }

  private report(result: CheckResult): void {
    this.results.push(result);
    this.onResult(result);
  }

  private plugin() {
    return this.deps.orchestrator.find(this.tenant, this.manifest.id);
  }

  private status() {
    return this.plugin().status();
  }
}

/** Rejects when `signal` aborts: a wait that a signal should end. */
function aborted(signal: AbortSignal): Promise<never> {
  const stopped = new Promise<never>((_, reject) => {
    const stop = () => reject(new SandboxError('INTERNAL_ERROR', 'verify was stopped by a signal'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  // Handled here too: when the race is won by the job, a later abort must not be an unhandled rejection.
  stopped.catch(() => undefined);
  return stopped;
}

/** The finding's code: one the message starts with (CALL_UNEXPECTED: …), else the error's code. */
function describe(err: unknown): { code: string; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  const named = /^([A-Z][A-Z_]+): /.exec(message);
  if (named?.[1]) return { code: named[1], message: message.slice(named[0].length) };
  return { code: err instanceof SandboxError ? err.code : 'FAILED', message };
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text;
}
