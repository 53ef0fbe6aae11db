/**
 * Host API calls made by a plugin's own SDK inside its container, Node, Python and C++ side by
 * side, in the gateway benchmark's run: get_courses through the SDK's public API (whatever
 * transport each SDK uses), timed inside the plugin (test/fixtures/plugins/sdk-caller, py-caller,
 * cpp-caller: its calls in flight are threads), through the
 * plugin's gateway to the built-in host. For where the time goes, the Python fixture also times
 * grpc.aio alone (a unary CallApi, calls one at a time on a CallStream, on a channel of its own,
 * no SDK code), and can profile its SDK calls (cProfile).
 */
import type { ManagedPlugin } from '../src/orchestrator/index.ts';
import { summarize } from './report.ts';

export const NODE_CALLER = 'com.test.sdk-caller';
export const PYTHON_CALLER = 'com.test.py-caller';
export const CPP_CALLER = 'com.test.cpp-caller';
const BLOCK = 500;
const WARM_UP_CALLS = 300;
const DEADLINE_MS = 120_000;
/** Calls profiled with --profile-python (cProfile slows each several times). */
const PROFILE_CALLS = 1_000;

type Timing = { latencies: number[]; elapsedMs: number };
type Measure = { plugin: ManagedPlugin; fn: string; body: Record<string, unknown> };

async function ask<T>(plugin: ManagedPlugin, fn: string, body: unknown): Promise<T> {
  const answer = await plugin.callFunction(fn, Buffer.from(JSON.stringify(body)), Date.now() + DEADLINE_MS);
  return JSON.parse(answer.toString('utf8')) as T;
}

/**
 * Sequential p50 / p99 and calls/s of each row, in alternating blocks so that drift hits them
 * alike; then calls/s with `concurrency` in flight through each SDK.
 */
export async function sdkCalls(
  { node, python, cpp }: Record<'node' | 'python' | 'cpp', ManagedPlugin>,
  calls: number,
  concurrency: number,
) {
  const rows: Record<string, Measure> = {
    'Node SDK (getCourses)': { plugin: node, fn: 'sdk_calls', body: {} },
    'Python SDK (get_courses)': { plugin: python, fn: 'sdk_calls', body: {} },
    'C++ SDK (GetCourses)': { plugin: cpp, fn: 'sdk_calls', body: {} },
    'Python, grpc.aio alone: unary CallApi': { plugin: python, fn: 'raw_calls', body: { kind: 'unary' } },
    'Python, grpc.aio alone: on a CallStream': { plugin: python, fn: 'raw_calls', body: { kind: 'stream' } },
  };
  const names = Object.keys(rows);
  const run = (m: Measure, n: number) => ask<Timing>(m.plugin, m.fn, { ...m.body, calls: n });
  for (const m of Object.values(rows)) await run(m, WARM_UP_CALLS);
  const lat = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  const time = Object.fromEntries(names.map((n) => [n, 0]));
  for (let done = 0; done < calls; done += BLOCK) {
    for (const name of names) {
      const block = await run(rows[name] as Measure, BLOCK);
      lat[name]?.push(...block.latencies);
      time[name] = (time[name] ?? 0) + block.elapsedMs;
    }
  }
  const concurrent = async (plugin: ManagedPlugin) =>
    ((calls * 2) / (await ask<Timing>(plugin, 'sdk_calls', { calls: calls * 2, concurrency })).elapsedMs) * 1000;
  const inFlight: Record<string, number> = {
    [names[0] as string]: await concurrent(node),
    [names[1] as string]: await concurrent(python),
    [names[2] as string]: await concurrent(cpp),
  };
  const table = names.map((name) => {
    const s = summarize(lat[name] ?? []);
    return {
      path: name,
      calls: s.calls,
      p50: s.p50,
      p99: s.p99,
      callsPerSecond: (s.calls / (time[name] ?? 1)) * 1000,
      [`callsPerSecond${concurrency}InFlight`]: inFlight[name] ?? '',
    };
  });
  // In the JSON, a rate not measured is null rather than the table's blank.
  const json = table.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === '' ? null : v])));
  return { rows: table, json: { concurrency, rows: json } };
}

/** cProfile of PROFILE_CALLS sequential get_courses through the Python SDK: the top functions by their own time. */
export async function pythonProfile(python: ManagedPlugin): Promise<string> {
  return ask<string>(python, 'profile', { calls: PROFILE_CALLS });
}
