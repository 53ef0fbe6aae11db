/**
 * Lifecycle benchmark, measured side by side in one run (see ../shared/performance.md):
 *   1. hot reload: calls at a steady rate during reloads vs the same rate with no reload:
 *      failed calls, and p50/p99/p99.9/max latency of each, and the added latency;
 *   2. lifecycle queue: disable+enable cycles through BullMQ jobs vs the same operations called
 *      directly on the plugin, alternating so that drift hits both alike.
 * Run: node dist/bench/lifecycle.bench.js [--rate 200] [--reloads 5] [--cycles 10] [--json FILE]
 * Every loop is bounded; traffic goes to loopback and unix sockets only.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  exampleTrust,
  FIXTURES,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../test/helpers/test-orchestrator.ts';
import { report, summarize } from './report.ts';

const COUNTER = 'com.test.counter';
const BASELINE_MS = 3_000;
const SETTLE_MS = 500;
const CALL_DEADLINE_MS = 30_000;
const JOB_TIMEOUT_MS = 120_000;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    reloads: { type: 'string', default: '5' },
    cycles: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const rate = Number(values.rate);
const reloads = Number(values.reloads);
const cycles = Number(values.cycles);

/** Calls `count` at `rate`/s until `until()` is true (bounded by `maxMs`); returns latencies and failures. */
async function steadyCalls(t: TestOrchestrator, until: () => boolean, maxMs: number) {
  const plugin = t.orchestrator.find('school-a', COUNTER);
  const latencies: number[] = [];
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const started = Date.now();
  for (let i = 0; !until() && Date.now() - started < maxMs; i++) {
    const sent = performance.now();
    pending.push(
      plugin.callFunction('count', Buffer.from('{}'), Date.now() + CALL_DEADLINE_MS).then(
        () => void latencies.push(performance.now() - sent),
        () => void failed++,
      ),
    );
    const next = started + ((i + 1) * 1_000) / rate;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  await Promise.all(pending);
  return { ...summarize(latencies), failed };
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-bench-'));
  const versions = ['1.0.1', '1.0.2'].map((v) => {
    const dir = path.join(scratch, v);
    cpSync(path.join(FIXTURES, 'counter'), dir, { recursive: true });
    const file = path.join(dir, 'plugin.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: 1.0.0', `version: ${v}`));
    return dir;
  });
  const t = await startTestOrchestrator([
    { id: 'school-a', trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'counter')] },
  ]);
  try {
    // 1. Hot reload vs no reload, same rate, same run.
    const baselineEnd = Date.now() + BASELINE_MS;
    const baseline = await steadyCalls(t, () => Date.now() > baselineEnd, BASELINE_MS + 1_000);
    let done = false;
    const during = steadyCalls(t, () => done, JOB_TIMEOUT_MS * reloads);
    for (let i = 0; i < reloads; i++) {
      const id = await t.orchestrator.submit({
        action: 'reload',
        tenant: 'school-a',
        pluginId: COUNTER,
        bundle: versions[i % 2],
        cause: 'bench',
      });
      await t.orchestrator.waitForJob(id, JOB_TIMEOUT_MS);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
    done = true;
    const reloading = await during;

    // 2. Queue vs direct: the same disable+enable cycle, alternating.
    const plugin = t.orchestrator.find('school-a', COUNTER);
    const noProgress = async () => undefined;
    let directMs = 0;
    let queuedMs = 0;
    for (let i = 0; i < cycles; i++) {
      let started = performance.now();
      await plugin.disable(noProgress, 'bench');
      await plugin.enable(noProgress, 'bench');
      directMs += performance.now() - started;
      started = performance.now();
      for (const action of ['disable', 'enable'] as const) {
        const id = await t.orchestrator.submit({ action, tenant: 'school-a', pluginId: COUNTER, cause: 'bench' });
        await t.orchestrator.waitForJob(id, JOB_TIMEOUT_MS);
      }
      queuedMs += performance.now() - started;
    }

    const rows = [
      { measure: 'calls, no reload', ...baseline },
      { measure: `calls during ${reloads} reloads`, ...reloading },
    ];
    report(`hot reload at ${rate} calls/s (latency in ms)`, rows, null);
    const queue = {
      cycles,
      directMsPerCycle: directMs / cycles,
      queuedMsPerCycle: queuedMs / cycles,
      overhead: queuedMs / directMs - 1,
    };
    report('lifecycle queue: disable+enable per cycle (ms)', [queue], null);
    const json = {
      rate,
      reloads,
      baseline,
      reloading,
      addedLatencyMs: {
        p99: reloading.p99 - baseline.p99,
        p999: reloading.p999 - baseline.p999,
        max: reloading.max - baseline.max,
      },
      queue,
    };
    report(
      'summary',
      [
        {
          failedCalls: reloading.failed,
          addedP999Ms: json.addedLatencyMs.p999,
          queueOverheadPercent: queue.overhead * 100,
        },
      ],
      json,
    );
  } finally {
    await t.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
