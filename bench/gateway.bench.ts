/**
 * Gateway benchmark, measured side by side in one run (see ../shared/performance.md):
 *   1. the same unary call (get_courses) plugin → gateway → host vs plugin → host directly, over
 *      the same kind of unix socket: p50, p99, calls/s, and their ratio (alternating blocks). The
 *      built-in host runs in the gateway's process; a second tenant's gateway reaches a host over
 *      a socket instead, as an operator's own upstream is reached;
 *   2. concurrent throughput through the gateway;
 *   3. a 1920×1080×3 frame from a plugin to the host through shared memory vs the same bytes in a
 *      gRPC result: one frame at a time (latency), and a stream of frames with three in flight
 *      (throughput, as a video source sends them);
 *   4. the same call made by a plugin's own SDK in its container, Node, Python and C++ (sdk-calls.ts);
 *   5. frames streamed from a C++ plugin through shared memory vs gRPC (cpp-frames.ts).
 * The C++ fixtures are compiled first, in the builder image docker/build-images.sh tagged.
 * The calling side runs in its own process (bench/caller.ts), as a plugin would, against the real
 * sockets; the orchestrator (gateways and the built-in host) runs in this one.
 * Run: node --expose-gc dist/bench/gateway.bench.js [--calls 4000] [--concurrency 64] [--frames 40] [--stream-frames 120]
 *   [--sdk-calls 2000] [--cpp-frames 120] [--profile-python] [--json FILE]
 */
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TestGatewayClient } from '../test/helpers/gateway-client.ts';
import {
  EXAMPLES,
  exampleTrust,
  FIXTURES,
  startTestOrchestrator,
  testLogger,
} from '../test/helpers/test-orchestrator.ts';
import { compileCppPlugins } from '../test/helpers/cpp-plugins.ts';
import { HostServer } from '../src/host/index.ts';
import type { CallerAnswer, CallerCommand, CallerSetup, CallPath } from './caller.ts';
import { report, summarize } from './report.ts';
import { CPP_FRAMER, cppFrames } from './cpp-frames.ts';
import { singleFrames, STREAM_RING, streamedFrames } from './node-frames.ts';
import { CPP_CALLER, NODE_CALLER, PYTHON_CALLER, pythonProfile, sdkCalls } from './sdk-calls.ts';

const HELLO = 'com.example.hello-world';
const FRAMER = 'com.test.framer';
const BLOCK = 500;
const UNLIMITED = { callsPerSecond: 1e9, burst: 1e9, maxConcurrentCalls: 10_000, maxMessageBytes: 16 * 1024 * 1024 };

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '64' },
    frames: { type: 'string', default: '40' },
    'stream-frames': { type: 'string', default: '120' },
    'sdk-calls': { type: 'string', default: '2000' },
    'cpp-frames': { type: 'string', default: '120' },
    'profile-python': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const calls = Number(values.calls);
const concurrency = Number(values.concurrency);
const frames = Number(values.frames);
const streamFrames = Number(values['stream-frames']);

const UNARY_PATHS: Record<CallPath, string> = {
  direct: 'plugin → host (direct)',
  gateway: 'plugin → gateway → host (in process)',
  'gateway-remote': 'plugin → gateway → host over a socket',
};

async function main(): Promise<void> {
  // The host that tenant bench-remote's gateway reaches over a socket: the built-in host's code,
  // serving the same Redis, as an operator's upstream would.
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-bench-'));
  const remoteAddress = `unix://${path.join(scratch, 'remote-host.sock')}`;
  let remoteHost: HostServer | undefined;
  const cppPlugins = ['cpp-caller', 'cpp-framer'];
  for (const name of cppPlugins) cpSync(path.join(FIXTURES, name), path.join(scratch, name), { recursive: true });
  await compileCppPlugins(scratch, cppPlugins);
  const t = await startTestOrchestrator(
    [
      {
        id: 'bench',
        trust: exampleTrust({ allowUnsigned: true }),
        callLimits: UNLIMITED,
        plugins: [
          path.join(EXAMPLES, 'hello-world'),
          path.join(FIXTURES, 'framer'),
          path.join(FIXTURES, 'sdk-caller'),
          path.join(FIXTURES, 'py-caller'),
          ...cppPlugins.map((name) => path.join(scratch, name)),
        ],
      },
      {
        id: 'bench-remote',
        trust: exampleTrust({ allowUnsigned: true }),
        callLimits: UNLIMITED,
        upstream: { address: remoteAddress },
        plugins: [path.join(EXAMPLES, 'hello-world')],
      },
    ],
    {
      beforeStart: async (redis) => {
        remoteHost = new HostServer(redis, testLogger());
        await remoteHost.listen(remoteAddress);
      },
    },
  );
  const registered = async (tenant: string) => {
    const socket = t.gatewaySocket(tenant, HELLO);
    const client = new TestGatewayClient(socket);
    const { token } = await client.register(HELLO, '1.0.0');
    client.close();
    return { socket, token };
  };
  const setup: CallerSetup = {
    hostAddress: `unix://${path.join(t.config.runtimeDir, t.config.orchestratorId, 'host.sock')}`,
    pluginId: HELLO,
    gateways: { gateway: await registered('bench'), 'gateway-remote': await registered('bench-remote') },
  };
  const caller = fork(fileURLToPath(new URL('./caller.js', import.meta.url)), [JSON.stringify(setup)]);
  const ask = (command: CallerCommand) =>
    new Promise<{ latencies: number[]; elapsedMs: number }>((resolve, reject) => {
      caller.once('message', (answer: CallerAnswer) =>
        'error' in answer ? reject(new Error(`caller: ${answer.error}`)) : resolve(answer),
      );
      caller.send(command);
    });
  try {
    // Warm every path, then alternate blocks so that drift hits them alike.
    const paths = Object.keys(UNARY_PATHS) as CallPath[];
    for (const path of paths) await ask({ kind: 'sequential', path, calls: 300 });
    const lat = { direct: [] as number[], gateway: [] as number[], 'gateway-remote': [] as number[] };
    const time = { direct: 0, gateway: 0, 'gateway-remote': 0 };
    for (let done = 0; done < calls; done += BLOCK) {
      for (const path of paths) {
        const block = await ask({ kind: 'sequential', path, calls: BLOCK });
        lat[path].push(...block.latencies);
        time[path] += block.elapsedMs;
      }
    }
    const summary = Object.fromEntries(paths.map((path) => [path, summarize(lat[path])])) as Record<
      CallPath,
      ReturnType<typeof summarize>
    >;
    const d = summary.direct;
    const perSecond = (path: CallPath) => (summary[path].calls / time[path]) * 1000;
    const unary = paths.map((path) => ({
      path: UNARY_PATHS[path],
      calls: summary[path].calls,
      p50: summary[path].p50,
      p99: summary[path].p99,
      callsPerSecond: perSecond(path),
    }));
    for (const path of ['gateway', 'gateway-remote'] as const) {
      unary.push({
        path: `ratio ${path === 'gateway' ? 'in process' : 'over a socket'} / direct`,
        calls: 0,
        p50: summary[path].p50 / d.p50,
        p99: summary[path].p99 / d.p99,
        callsPerSecond: perSecond(path) / perSecond('direct'),
      });
    }
    report('sequential unary calls (ms), caller in its own process', unary, null);

    const total = calls * 2;
    const throughput = async (path: 'gateway' | 'direct') =>
      (total / (await ask({ kind: 'concurrent', path, calls: total, concurrency })).elapsedMs) * 1000;
    const concurrentDirect = await throughput('direct');
    const concurrentGateway = await throughput('gateway');
    const concurrent = [
      { path: 'plugin → host (direct)', concurrency, calls: total, callsPerSecond: concurrentDirect },
      { path: 'plugin → gateway → host', concurrency, calls: total, callsPerSecond: concurrentGateway },
      { path: 'ratio gateway / direct', concurrency, calls: 0, callsPerSecond: concurrentGateway / concurrentDirect },
    ];
    report('concurrent calls', concurrent, null);

    const nodeCaller = t.orchestrator.find('bench', NODE_CALLER);
    const pythonCaller = t.orchestrator.find('bench', PYTHON_CALLER);
    const cppCaller = t.orchestrator.find('bench', CPP_CALLER);
    const sdk = await sdkCalls(
      { node: nodeCaller, python: pythonCaller, cpp: cppCaller },
      Number(values['sdk-calls']),
      concurrency,
    );
    report("get_courses from a plugin's own SDK in its container, timed in the plugin (ms)", sdk.rows, null);
    if (values['profile-python']) process.stdout.write(`\n${await pythonProfile(pythonCaller)}\n`);

    const framer = t.orchestrator.find('bench', FRAMER);
    const single = await singleFrames(framer, frames);
    const stream = await streamedFrames(framer, streamFrames);
    report(`a stream of ${streamFrames} frames, ${STREAM_RING} in flight, plugin → host consumer`, stream.rows, null);
    const cpp = await cppFrames(t.orchestrator.find('bench', CPP_FRAMER), Number(values['cpp-frames']));
    report('frames from a C++ plugin to a host consumer (per frame: ms; plugin and host timed inside)', cpp.rows, {
      unary: {
        ...summary,
        p50Ratio: summary.gateway.p50 / d.p50,
        p50RatioOverSocket: summary['gateway-remote'].p50 / d.p50,
        throughputRatio: perSecond('gateway') / perSecond('direct'),
      },
      concurrent: { concurrency, calls: total, direct: concurrentDirect, gateway: concurrentGateway },
      sdk: sdk.json,
      frame: single.json,
      stream: stream.json,
      cpp: cpp.json,
    });
  } finally {
    caller.send('stop');
    await t.stop();
    await remoteHost?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
