import type { HostEvent } from '../../host/index.ts';
import type { PluginManifest } from '../../manifest/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { PluginRun } from './plugin-run.ts';
import type { UsageSampler } from './usage-sampler.ts';

/** A plugin this close to a limit is warned: under a little more load it would be killed or refused. */
const MEMORY_WARNING_RATIO = 0.9;
const PIDS_WARNING_RATIO = 0.8;
const MIB = 1024 * 1024;

/** Start time, memory and processes against the manifest's limits; the crash, if any; the events emitted. */
export function runFindings(
  run: PluginRun,
  sampler: UsageSampler,
  events: readonly HostEvent[],
  manifest: PluginManifest,
): CheckResult[] {
  const r = resultsOf('resources', 'dynamic');
  const results: CheckResult[] = [];
  results.push(
    run.startMs === undefined
      ? r.skipped('START_TIME', 'start time', 'the plugin did not reach ENABLED')
      : r.ok('START_TIME', `enabled in ${run.startMs} ms`, 'from LOADED to ENABLED, as the orchestrator records it'),
  );
  const { memoryMb, pids } = manifest.sandbox;
  if (sampler.samples === 0) {
    results.push(r.skipped('MEMORY', 'memory', 'no sample: the container was never measured while it ran'));
    results.push(r.skipped('PROCESSES', 'processes', 'no sample: the container was never measured while it ran'));
  } else {
    const peakMb = sampler.peakBytes / MIB;
    const what = sampler.highWaterMark
      ? 'high-water mark (cgroup)'
      : 'highest sample (the engine keeps no high-water mark)';
    const detail = `${what} ${peakMb.toFixed(1)} MiB of sandbox.memory_mb ${memoryMb} MiB`;
    results.push(
      peakMb >= memoryMb * MEMORY_WARNING_RATIO
        ? r.warning(
            'MEMORY_NEAR_LIMIT',
            `memory within ${Math.round((1 - MEMORY_WARNING_RATIO) * 100)}% of its limit`,
            detail,
          )
        : r.ok('MEMORY', `memory peak ${peakMb.toFixed(1)} MiB`, detail),
    );
    const pidsDetail = `at most ${sampler.maxPids} processes and threads sampled, of sandbox.pids ${pids}`;
    results.push(
      sampler.maxPids >= pids * PIDS_WARNING_RATIO
        ? r.warning('PROCESSES_NEAR_LIMIT', 'processes near sandbox.pids', pidsDetail)
        : r.ok('PROCESSES', `${sampler.maxPids} processes`, pidsDetail),
    );
  }
  results.push(
    run.crash ?? resultsOf('crashes', 'dynamic').ok('NO_CRASH', 'no crash', 'the container never exited unasked'),
  );
  results.push(eventsEmitted(events, manifest));
  return results;
}

function eventsEmitted(events: readonly HostEvent[], manifest: PluginManifest): CheckResult {
  const r = resultsOf('events', 'dynamic');
  const own = events.filter((e) => e.source_plugin_id === manifest.id);
  if (own.length === 0)
    return r.ok('EVENTS_EMITTED', 'no events emitted', 'the plugin emitted no event during the run');
  const counts = new Map<string, number>();
  for (const e of own) counts.set(e.event_name, (counts.get(e.event_name) ?? 0) + 1);
  const list = [...counts].map(([name, n]) => `${name} ×${n}`).join(', ');
  return r.ok('EVENTS_EMITTED', `${own.length} event(s) emitted`, list);
}
