/**
 * Gateway benchmark, measured side by side in one run (see ../shared/performance.md):
 *   1. the same unary call (get_courses) plugin → gateway → host vs plugin → host directly, over
 *      the same kind of unix socket: p50, p99, calls/s, and their ratio (alternating blocks);
 *   2. concurrent throughput through the gateway;
 *   3. a 1920×1080×3 frame from a plugin to the host through shared memory vs the same bytes in a
 *      gRPC result.
 * The calling side runs in this process, as a plugin's SDK would, against the real sockets.
 * Run: node dist/bench/gateway.bench.js [--calls 4000] [--concurrency 64] [--frames 20] [--json FILE]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UpstreamHost } from '../src/gateway/index.ts';
import { TestGatewayClient } from '../test/helpers/gateway-client.ts';
import { EXAMPLES, exampleTrust, FIXTURES, startTestOrchestrator } from '../test/helpers/test-orchestrator.ts';
import { report, summarize } from './report.ts';

const HELLO = 'com.example.hello-world';
const FRAMER = 'com.test.framer';
const FRAME_BYTES = 1920 * 1080 * 3;
const BLOCK = 500;
const DEADLINE_MS = 10_000;
const UNLIMITED = { callsPerSecond: 1e9, burst: 1e9, maxConcurrentCalls: 10_000, maxMessageBytes: 16 * 1024 * 1024 };

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '64' },
    frames: { type: 'string', default: '20' },
    json: { type: 'string' },
  },
});
const calls = Number(values.calls);
const concurrency = Number(values.concurrency);
const frames = Number(values.frames);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const t = await startTestOrchestrator([
    {
      id: 'bench',
      trust: exampleTrust({ allowUnsigned: true }),
      callLimits: UNLIMITED,
      plugins: [path.join(EXAMPLES, 'hello-world'), path.join(FIXTURES, 'framer')],
    },
  ]);
  const gateway = new TestGatewayClient(t.gatewaySocket('bench', HELLO));
  const direct = new UpstreamHost(`unix://${path.join(t.config.runtimeDir, t.config.orchestratorId, 'host.sock')}`);
  try {
    const token = (await gateway.register(HELLO, '1.0.0')).token;
    const payload = {};
    const viaGateway = async () => {
      const r = await gateway.callApi('get_courses', payload, token);
      if (r.code !== 'OK') throw new Error(`gateway call failed: ${r.code} ${r.message}`);
    };
    const bytes = Buffer.from(JSON.stringify(payload));
    const viaHost = () =>
      direct.invoke(
        { tenant: 'bench', plugin_id: HELLO, instance_id: 'bench', api_name: 'get_courses', payload: bytes },
        Date.now() + DEADLINE_MS,
      );

    // Warm both paths, then alternate blocks so that drift hits both alike.
    for (let i = 0; i < 200; i++) await Promise.all([viaGateway(), viaHost()]);
    const lat = { gateway: [] as number[], direct: [] as number[] };
    const time = { gateway: 0, direct: 0 };
    for (let done = 0; done < calls; done += BLOCK) {
      for (const [name, fn] of [
        ['direct', viaHost],
        ['gateway', viaGateway],
      ] as const) {
        const started = performance.now();
        for (let i = 0; i < BLOCK; i++) lat[name].push(await timed(fn));
        time[name] += performance.now() - started;
      }
    }
    const g = summarize(lat.gateway);
    const d = summarize(lat.direct);
    const unary = [
      {
        path: 'plugin → host (direct)',
        calls: d.calls,
        p50: d.p50,
        p99: d.p99,
        callsPerSecond: (d.calls / time.direct) * 1000,
      },
      {
        path: 'plugin → gateway → host',
        calls: g.calls,
        p50: g.p50,
        p99: g.p99,
        callsPerSecond: (g.calls / time.gateway) * 1000,
      },
      {
        path: 'ratio gateway / direct',
        calls: 0,
        p50: g.p50 / d.p50,
        p99: g.p99 / d.p99,
        callsPerSecond: g.calls / time.gateway / (d.calls / time.direct),
      },
    ];
    report('sequential unary calls (ms)', unary, null);

    let next = 0;
    const total = calls * 2;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < total) await viaGateway();
      }),
    );
    const concurrent = { concurrency, calls: total, callsPerSecond: (total / (performance.now() - started)) * 1000 };
    report('concurrent calls through the gateway', [concurrent], null);

    const framer = t.orchestrator.find('bench', FRAMER);
    const readOnly: number[] = [];
    const body = (size: number) => Buffer.from(JSON.stringify({ size, seed: 1 }));
    const shm = async () => {
      await framer.callFunction('frame_shm', body(FRAME_BYTES), Date.now() + DEADLINE_MS);
      const started = performance.now();
      const frame = await framer.readSharedMemory('frame');
      readOnly.push(performance.now() - started);
      if (frame.length !== FRAME_BYTES) throw new Error('short frame');
    };
    const grpc = async () => {
      const frame = await framer.callFunction('frame_grpc', body(FRAME_BYTES), Date.now() + DEADLINE_MS);
      if (frame.length !== FRAME_BYTES) throw new Error('short frame');
    };
    await shm();
    await grpc();
    const f = { shm: [] as number[], grpc: [] as number[] };
    for (let i = 0; i < frames; i++) {
      f.shm.push(await timed(shm));
      f.grpc.push(await timed(grpc));
    }
    readOnly.splice(0, 1); // the warm-up read
    const s = summarize(f.shm);
    const hostRead = summarize(readOnly);
    const r = summarize(f.grpc);
    const gbps = (ms: number) => FRAME_BYTES / (ms / 1000) / 1e9;
    const frameRows = [
      { path: 'shared memory', frames: s.calls, p50Ms: s.p50, gbPerSecond: gbps(s.p50) },
      { path: 'gRPC result', frames: r.calls, p50Ms: r.p50, gbPerSecond: gbps(r.p50) },
      { path: 'ratio shm / gRPC (speed)', frames: 0, p50Ms: r.p50 / s.p50, gbPerSecond: gbps(s.p50) / gbps(r.p50) },
      {
        path: 'host read of the region only',
        frames: hostRead.calls,
        p50Ms: hostRead.p50,
        gbPerSecond: gbps(hostRead.p50),
      },
    ];
    report(`a ${FRAME_BYTES}-byte frame, plugin → host (call + transfer)`, frameRows, {
      unary: { direct: d, gateway: g, p50Ratio: g.p50 / d.p50, throughputRatio: unary[2]?.callsPerSecond },
      concurrent,
      frame: { bytes: FRAME_BYTES, shm: s, grpc: r, speedup: r.p50 / s.p50, hostRead },
    });
  } finally {
    gateway.close();
    direct.close();
    await t.stop();
  }
}

await main();
