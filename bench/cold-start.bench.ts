/**
 * Cold-start benchmark (issue 19; see ../shared/performance.md), in one run: a plugin's enable →
 * ENABLED against a bare `docker run` of the same image, alternating, K times each. The plugin is
 * the density fixture (64 MB, 0.1 CPU) in a tenant of its own; each enable is measured from the
 * admin API's answer (the job accepted) to the plugin seen ENABLED, and as the job's own
 * accepted → finished in the queue; it is disabled again between runs, untimed. With
 * `--under-load N`, N more plugins run the density load meanwhile (bench/density-load.ts).
 * Run: node dist/bench/cold-start.bench.js [--runs 10] [--under-load 0] [--rate 10] [--json FILE]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { NODE_IMAGE } from '../test/helpers/test-orchestrator.ts';
import { adminJson, startFleet, type Fleet } from './density-fleet.ts';
import { collectPluginCalls, hostToPlugin, startPluginCalls } from './density-load.ts';
import { report, summarize } from './report.ts';

const run = promisify(execFile);
const COLD = { tenant: 'cold', pluginId: 'com.bench.cold' };
const START_TIMEOUT_MS = 120_000;
const POLL_MS = 5;
/** Longest the load may run; the runs stop it sooner. */
const MAX_LOAD_MS = 600_000;
const DRAIN_MS = 30_000;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    'under-load': { type: 'string', default: '0' },
    rate: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const runs = Number(values.runs);
const underLoad = Number(values['under-load']);
const rate = Number(values.rate);

interface JobView {
  state: string;
  createdAt: string;
  finishedAt: string | null;
  failedReason: string | null;
}

/** Submits `action` for the cold plugin and waits until its job finished; returns both timings (ms). */
async function lifecycle(fleet: Fleet, action: 'enable' | 'disable', want: string) {
  const route = `/v1/plugins/${COLD.tenant}/${COLD.pluginId}`;
  const started = performance.now();
  const { jobId } = await adminJson<{ jobId: string }>(fleet.adminUrl, `${route}/${action}`, {});
  const accepted = performance.now();
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const { state } = await adminJson<{ state: string }>(fleet.adminUrl, route);
    if (state === want) break;
    if (Date.now() > deadline) throw new Error(`${COLD.pluginId}: not ${want} ${START_TIMEOUT_MS} ms after ${action}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const seen = performance.now();
  let job = await adminJson<JobView>(fleet.adminUrl, `/v1/jobs/${jobId}`);
  while (!job.finishedAt && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await adminJson<JobView>(fleet.adminUrl, `/v1/jobs/${jobId}`);
  }
  if (job.state !== 'completed') throw new Error(`${COLD.pluginId}: ${action} job ${job.state}: ${job.failedReason}`);
  return {
    acceptedToSeenMs: seen - accepted,
    postToSeenMs: seen - started,
    jobMs: Date.parse(job.finishedAt as string) - Date.parse(job.createdAt),
  };
}

async function bareDockerRun(): Promise<number> {
  const started = performance.now();
  await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'true', NODE_IMAGE]);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const fleet = await startFleet({
    mix: { node: underLoad, python: 0 },
    extra: [{ pluginId: COLD.pluginId, runtime: 'node' }],
    startTimeoutMs: START_TIMEOUT_MS,
    logFile: 'cold-start-orchestrator.log',
  });
  let stopped = false;
  try {
    await lifecycle(fleet, 'disable', 'DISABLED');
    let load: Promise<unknown> = Promise.resolve();
    if (underLoad > 0) {
      await startPluginCalls(fleet.adminUrl, fleet.plugins, rate, MAX_LOAD_MS);
      load = hostToPlugin(fleet.adminUrl, fleet.plugins, rate, MAX_LOAD_MS, DRAIN_MS, () => stopped);
    }
    const docker: number[] = [];
    const enable = { acceptedToSeen: [] as number[], job: [] as number[] };
    await bareDockerRun(); // the image's layers in the page cache for both sides
    for (let i = 0; i < runs; i++) {
      docker.push(await bareDockerRun());
      const e = await lifecycle(fleet, 'enable', 'ENABLED');
      enable.acceptedToSeen.push(e.acceptedToSeenMs);
      enable.job.push(e.jobMs);
      await lifecycle(fleet, 'disable', 'DISABLED');
    }
    stopped = true;
    const hostCalls = (await load) as Awaited<ReturnType<typeof hostToPlugin>> | undefined;
    const pluginCalls = underLoad > 0 ? await collectPluginCalls(fleet.adminUrl, fleet.plugins) : undefined;
    const d = summarize(docker);
    const a = summarize(enable.acceptedToSeen);
    const j = summarize(enable.job);
    const title = underLoad > 0 ? `under the load of ${underLoad} plugins at ${rate} calls/s each way` : 'idle';
    report(
      `cold start, ${title}, ${runs} runs each (ms)`,
      [
        { measure: `docker run --rm --network none IMAGE true`, p50: d.p50, max: d.max, ratio: 1 },
        { measure: 'enable: accepted → seen ENABLED', p50: a.p50, max: a.max, ratio: a.p50 / d.p50 },
        { measure: "enable: the job's accepted → finished", p50: j.p50, max: j.max, ratio: j.p50 / d.p50 },
      ],
      {
        runs,
        underLoad,
        rate,
        dockerRun: d,
        enableAcceptedToEnabled: a,
        enableJob: j,
        ratio: a.p50 / d.p50,
        ...(hostCalls ? { hostToPlugin: { ...summarize(hostCalls.latencies), failed: hostCalls.failed } } : {}),
        ...(pluginCalls ? { pluginToHost: { ...summarize(pluginCalls.latencies), failed: pluginCalls.failed } } : {}),
      },
    );
    if (hostCalls)
      process.stdout.write(
        `load meanwhile: host → plugin p50 ${summarize(hostCalls.latencies).p50.toFixed(1)} ms, ${hostCalls.failed} failed\n`,
      );
  } finally {
    stopped = true;
    await fleet.stop();
  }
}

await main();
