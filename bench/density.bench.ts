/**
 * Density benchmark (issue 19; see ../shared/performance.md), in one run:
 *   1. N plugins (four tenants, 64 MB and 0.1 CPU each) enabled at once by `classtop-sandbox up`
 *      in a process of its own: time until all are ENABLED;
 *   2. for `--duration` seconds, every plugin called host → plugin (process_data through the admin
 *      API) at R calls/s, and every plugin calling the host (get_courses, from its own timer) at R
 *      calls/s: p50/p99/p99.9/max of both directions, failures;
 *   3. memory per plugin (its container's cgroup) and of the orchestrator (RSS), the
 *      orchestrator's and its Redis's CPU over the load window, the plugins' CPU throttling.
 * Run: node dist/bench/density.bench.js [--plugins 200] [--mix node=150,python=50] [--rate 10]
 *   [--duration 20] [--cpu-prof DIR] [--log FILE (the orchestrator's, default density-orchestrator.log)] [--json FILE]
 * With --cpu-prof the orchestrator runs under `node --cpu-prof`; the JSON records the load
 * window's bounds on the profile's clock (bench/cpu-profile-summary.ts reads both).
 */
import { parseArgs } from 'node:util';
import { adminJson, parseMix, startFleet, type Fleet } from './density-fleet.ts';
import { collectPluginCalls, hostToPlugin, startPluginCalls, type LoadResult } from './density-load.ts';
import { findRedis, probeContainers, probeProcess } from './density-probes.ts';
import { report, summarize } from './report.ts';

const DRAIN_MS = 30_000;
/** How long a plugin may take to reach ENABLED at start-up (200 at once on 2 cores are slow). */
const START_TIMEOUT_MS = 120_000;
const SETTLE_MS = 2_000;

const { values } = parseArgs({
  options: {
    plugins: { type: 'string', default: '200' },
    mix: { type: 'string' },
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '20' },
    'cpu-prof': { type: 'string' },
    log: { type: 'string', default: 'density-orchestrator.log' },
    json: { type: 'string' },
  },
});
const mix = values.mix ? parseMix(values.mix) : { node: Number(values.plugins), python: 0 };
const rate = Number(values.rate);
const durationMs = Number(values.duration) * 1000;

/** Both directions at once over the load window, with the orchestrator's CPU across it. */
async function measureLoad(fleet: Fleet, redisPid: number | undefined) {
  await startPluginCalls(fleet.adminUrl, fleet.plugins, rate, durationMs);
  const before = { orchestrator: probeProcess(fleet.pid), redis: redisPid ? probeProcess(redisPid) : undefined };
  const windowUs = { start: Number(process.hrtime.bigint() / 1000n), end: 0 };
  const wallStart = performance.now();
  const hostCalls = await hostToPlugin(fleet.adminUrl, fleet.plugins, rate, durationMs, DRAIN_MS);
  const wallS = (performance.now() - wallStart) / 1000;
  windowUs.end = Number(process.hrtime.bigint() / 1000n);
  const after = { orchestrator: probeProcess(fleet.pid), redis: redisPid ? probeProcess(redisPid) : undefined };
  const pluginCalls = await collectPluginCalls(fleet.adminUrl, fleet.plugins);
  const cores = (a?: { cpuS: number }, b?: { cpuS: number }) => (a && b ? (b.cpuS - a.cpuS) / wallS : Number.NaN);
  return {
    hostCalls,
    pluginCalls,
    windowUs,
    wallS,
    orchestratorCores: cores(before.orchestrator, after.orchestrator),
    redisCores: cores(before.redis, after.redis),
    orchestratorRssMib: after.orchestrator.rssMib,
  };
}

const row = (direction: string, r: LoadResult, expected: number, wallS: number) => ({
  direction,
  expected,
  sent: r.sent,
  ...summarize(r.latencies),
  failed: r.failed,
  servedPerS: r.latencies.length / wallS,
});

const direction = (r: LoadResult) => ({ ...summarize(r.latencies), sent: r.sent, failed: r.failed, errors: r.errors });

type Probes = Awaited<ReturnType<typeof probeContainers>>;

/** Memory per plugin (by runtime, idle and loaded), the orchestrator's, CPU and throttling. */
function summarizeResources(
  fleet: Fleet,
  idle: { orchestratorRssMib: number; containers: Probes },
  loaded: Probes,
  load: Awaited<ReturnType<typeof measureLoad>>,
) {
  const memory = (probes: Probes, runtime: string) =>
    summarize(
      fleet.plugins
        .filter((p) => p.runtime === runtime)
        .map((p) => probes.get(p.pluginId)?.memoryMib ?? Number.NaN)
        .filter((m) => !Number.isNaN(m)),
    );
  let throttled = 0;
  let periods = 0;
  // Over the load window only: the counters run from each container's start, boot included.
  for (const [id, p] of loaded) {
    throttled += p.throttled - (idle.containers.get(id)?.throttled ?? 0);
    periods += p.periods - (idle.containers.get(id)?.periods ?? 0);
  }
  return {
    nodeMibIdle: memory(idle.containers, 'node'),
    nodeMibLoaded: memory(loaded, 'node'),
    pythonMibIdle: memory(idle.containers, 'python'),
    pythonMibLoaded: memory(loaded, 'python'),
    orchestratorRssMibIdle: idle.orchestratorRssMib,
    orchestratorRssMibLoaded: load.orchestratorRssMib,
    orchestratorCores: load.orchestratorCores,
    redisCores: load.redisCores,
    throttledPeriodsPercent: (throttled / Math.max(1, periods)) * 100,
    benchMaxLagMs: load.hostCalls.maxLagMs,
  };
}

function resourceRows(r: ReturnType<typeof summarizeResources>) {
  const range = (s: { p50: number; max: number }) => `${s.p50.toFixed(1)} / ${s.max.toFixed(1)}`;
  return [
    { measure: 'node plugin memory p50 / max, idle (MiB)', value: range(r.nodeMibIdle) },
    { measure: 'node plugin memory p50 / max, loaded (MiB)', value: range(r.nodeMibLoaded) },
    { measure: 'python plugin memory p50 / max, idle (MiB)', value: range(r.pythonMibIdle) },
    { measure: 'python plugin memory p50 / max, loaded (MiB)', value: range(r.pythonMibLoaded) },
    {
      measure: 'orchestrator RSS idle / loaded (MiB)',
      value: `${r.orchestratorRssMibIdle.toFixed(0)} / ${r.orchestratorRssMibLoaded.toFixed(0)}`,
    },
    { measure: 'orchestrator CPU over the load (cores)', value: r.orchestratorCores },
    { measure: 'embedded Redis CPU over the load (cores)', value: r.redisCores },
    { measure: 'plugin CFS periods throttled over the load (%)', value: r.throttledPeriodsPercent },
    { measure: "this process's schedule, worst lag (ms)", value: r.benchMaxLagMs },
  ];
}

async function main(): Promise<void> {
  const total = mix.node + mix.python;
  const fleet = await startFleet({
    mix,
    startTimeoutMs: START_TIMEOUT_MS,
    cpuProfDir: values['cpu-prof'],
    logFile: values.log,
  });
  try {
    const states = await adminJson<Array<{ id: string; state: string; lastError: string | null }>>(
      fleet.adminUrl,
      '/v1/plugins',
    );
    const enabled = states.filter((s) => s.state === 'ENABLED').length;
    for (const s of states.filter((p) => p.state !== 'ENABLED').slice(0, 5))
      process.stdout.write(`not enabled: ${s.id} ${s.state}: ${s.lastError}\n`);
    report(
      `${total} plugins (node ${mix.node}, python ${mix.python}) in 4 tenants, 64 MB and 0.1 CPU each`,
      [
        { measure: 'spawn → all start-up enable jobs settled (s)', value: fleet.startedMs / 1000 },
        { measure: 'ENABLED', value: enabled },
      ],
      null,
    );
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const idle = {
      orchestratorRssMib: probeProcess(fleet.pid).rssMib,
      containers: await probeContainers(fleet.orchestratorId),
    };
    const redisPid = findRedis(fleet.pid);
    const load = await measureLoad(fleet, redisPid);
    const loaded = await probeContainers(fleet.orchestratorId);
    const expected = Math.floor((durationMs / 1000) * rate * total);
    report(
      `${rate} calls/s per plugin each way for ${durationMs / 1000} s (latency in ms)`,
      [
        row('host → plugin (admin API)', load.hostCalls, expected, load.wallS),
        row('plugin → host (get_courses)', load.pluginCalls, expected, load.wallS),
      ],
      null,
    );
    const resources = summarizeResources(fleet, idle, loaded, load);
    report('resources', resourceRows(resources), {
      plugins: total,
      mix,
      rate,
      durationS: durationMs / 1000,
      startedS: fleet.startedMs / 1000,
      enabled,
      hostToPlugin: direction(load.hostCalls),
      pluginToHost: direction(load.pluginCalls),
      resources,
      profileWindowUs: load.windowUs,
    });
    for (const e of [...load.hostCalls.errors, ...load.pluginCalls.errors]) process.stdout.write(`error: ${e}\n`);
  } finally {
    await fleet.stop();
  }
}

await main();
