/**
 * Where an orchestrator's CPU went, from a `node --cpu-prof` profile: each sample charged to the
 * innermost frame on its stack that belongs to a known part (a dependency such as grpc-js, ioredis,
 * bullmq, dockerode, or a directory of src/), else to the leaf's Node internals; plus the top
 * functions by self time. Only samples inside `--window START,END` (µs, the profile's monotonic
 * clock, as density.bench.ts records it in its JSON as profileWindowUs) are counted.
 * Run: node dist/bench/cpu-profile-summary.js PROFILE.cpuprofile [--window START,END | --json DENSITY.json] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Parts of the process, matched on a frame's script URL, innermost first wins. */
const PARTS: Array<[RegExp, string]> = [
  [/node_modules\/@grpc\//, 'grpc-js (gRPC clients and servers)'],
  [/node_modules\/(ioredis|@ioredis)\//, 'ioredis (Redis client)'],
  [/node_modules\/bullmq\//, 'bullmq (lifecycle queue)'],
  [/node_modules\/(dockerode|docker-modem)\//, 'dockerode (Docker API)'],
  [/node_modules\/(pino|sonic-boom|thread-stream)/, 'pino (logging)'],
  [/node_modules\/prom-client\//, 'prom-client (metrics)'],
  [/node_modules\/protobufjs\//, 'protobufjs (message coding)'],
  [/node_modules\/([^/]+)\//, 'other dependencies'],
  [/\/dist\/src\/([^/]+)\//, 'src/$1'],
];
const INTERNAL: Array<[RegExp, string]> = [
  [/_http_|node:http|internal\/http/, 'node http (admin API server)'],
  [/node:net|internal\/stream_base|node:stream|internal\/streams/, 'node sockets and streams'],
  [/internal\/timers|node:timers/, 'node timers'],
  [/http2/, 'node http2 (under grpc-js)'],
];

function partOf(url: string): string | undefined {
  for (const [pattern, name] of PARTS) {
    const m = pattern.exec(url);
    if (m) return name.replace('$1', m[1] ?? '');
  }
  return undefined;
}

export function summarizeProfile(profile: Profile, window?: [number, number], top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const parts = new Map<string, number>();
  const self = new Map<string, number>();
  let t = profile.startTime;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    const leaf = byId.get(profile.samples[i] as number) as ProfileNode;
    totalUs += dt;
    const { functionName, url, lineNumber } = leaf.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    let part: string | undefined;
    for (let id: number | undefined = leaf.id; id !== undefined && !part; id = parent.get(id))
      part = partOf(byId.get(id)?.callFrame.url ?? '');
    part ??= INTERNAL.find(([p]) => p.test(url))?.[1] ?? (url ? 'other node internals' : functionName);
    parts.set(part, (parts.get(part) ?? 0) + dt);
  }
  const rows = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (us / totalUs) * 100 }));
  return { totalMs: totalUs / 1000, parts: rows(parts, 40), self: rows(self, top) };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { window: { type: 'string' }, json: { type: 'string' }, top: { type: 'string', default: '25' } },
  });
  const file = positionals[0];
  if (!file)
    throw new Error('usage: cpu-profile-summary.js PROFILE.cpuprofile [--window START,END | --json DENSITY.json]');
  let window: [number, number] | undefined;
  if (values.window) window = values.window.split(',').map(Number) as [number, number];
  if (values.json) {
    const w = (JSON.parse(readFileSync(values.json, 'utf8')) as { profileWindowUs: { start: number; end: number } })
      .profileWindowUs;
    window = [w.start, w.end];
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, window, Number(values.top));
  const print = (title: string, rows: Array<{ name: string; ms: number; percent: number }>) => {
    process.stdout.write(`\n${title}\n`);
    for (const r of rows)
      process.stdout.write(`${r.percent.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}\n`);
  };
  process.stdout.write(`samples over ${summary.totalMs.toFixed(0)} ms${window ? ' (inside the window)' : ''}\n`);
  print('by part (innermost known frame on the stack)', summary.parts);
  print('top functions by self time', summary.self);
}

if (process.argv[1]?.endsWith('cpu-profile-summary.js')) main();
