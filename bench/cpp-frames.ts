/**
 * 1920×1080×3 frames streamed from a C++ plugin (test/fixtures/plugins/cpp-framer) to a host
 * consumer through shared memory, against the same bytes in gRPC results, in the gateway
 * benchmark's run. The shared-memory paths, each `frames` frames per stream, every frame checked
 * by a consumer taking it in place (region.view):
 *   - ring: a SharedMemoryRing of RING regions (the next frame written while the host takes the last);
 *   - wait: RING regions mapped once, each announcement's answer waited for before the next write;
 *   - create: the specification's example per frame (SharedMemory::Create, memcpy, notify, unmap);
 *   - ring, copied out: the ring again, the consumer copying each frame into a buffer it reuses.
 * gRPC: RING calls in flight, each returning a frame. The paths alternate, ROUNDS times each.
 * Where the time goes: the plugin times its memcpy and its waits, the host its consumer's take.
 */
import type { ManagedPlugin } from '../src/orchestrator/index.ts';
import { checkFrame, FRAME_BYTES } from './frame-check.ts';

export const CPP_FRAMER = 'com.test.cpp-framer';
const RING = 3;
const ROUNDS = 3;
/** gRPC frames per stream, fewer than through shared memory: each costs some 20-40 ms. */
const GRPC_SHARE = 4;
const DEADLINE_MS = 60_000;
/** Each shared-memory path: the producer's mode, and whether the consumer copies the frame out. */
const SHM_PATHS = {
  ring: { mode: 'ring', copyOut: false },
  wait: { mode: 'wait', copyOut: false },
  create: { mode: 'create', copyOut: false },
  'ring-copied': { mode: 'ring', copyOut: true },
} as const;
type ShmPath = keyof typeof SHM_PATHS;
type Mode = (typeof SHM_PATHS)[ShmPath]['mode'];
type Produced = { frames: number; copyMs: number; waitMs: number; elapsedMs: number };
type Totals = { ms: number; frames: number; copyMs: number; waitMs: number; takeMs: number };

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const gbps = (bytes: number, ms: number) => bytes / (ms / 1000) / 1e9;

/**
 * Every region announced is taken in place (map, check, release) or copied out into a buffer the
 * consumer reuses and checked there; the take is timed.
 */
function checkingConsumer(framer: ManagedPlugin) {
  const taken = new Map<string, number>();
  // A buffer per region: the ring's frames are taken at the same time.
  const mirrors = new Map<string, Buffer>();
  const mirror = (name: string) => mirrors.get(name) ?? mirrors.set(name, Buffer.allocUnsafe(FRAME_BYTES)).get(name);
  let copyOut = false;
  let takeMs = 0;
  const stop = framer.consumeSharedMemory(async (region) => {
    const count = taken.get(region.name) ?? 0;
    taken.set(region.name, count + 1);
    const frame = Number(region.name.slice('stream-'.length)) + count * RING;
    const started = performance.now();
    if (copyOut) checkFrame(await region.read(mirror(region.name)), frame % (RING + 1));
    else await region.view((bytes) => checkFrame(bytes, frame % (RING + 1)));
    takeMs += performance.now() - started;
  });
  return {
    stop,
    /** Before a stream: frame numbering from 0 again. */
    restart: (copy: boolean) => {
      copyOut = copy;
      taken.clear();
      takeMs = 0;
    },
    /** The consumer's time taking frames since the last restart. */
    takeMs: () => takeMs,
  };
}

type Consumer = ReturnType<typeof checkingConsumer>;

async function streamShm(framer: ManagedPlugin, consumer: Consumer, path: ShmPath, frames: number) {
  const { mode, copyOut } = SHM_PATHS[path];
  consumer.restart(copyOut);
  const args: { size: number; frames: number; ring: number; mode: Mode } = {
    size: FRAME_BYTES,
    frames,
    ring: RING,
    mode,
  };
  const answer = await framer.callFunction('stream_shm', body(args), Date.now() + DEADLINE_MS);
  return JSON.parse(answer.toString('utf8')) as Produced;
}

async function streamGrpc(framer: ManagedPlugin, frames: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < frames; i = next++) {
      const ask = body({ size: FRAME_BYTES, seed: i % (RING + 1) });
      checkFrame(await framer.callFunction('frame_grpc', ask, Date.now() + DEADLINE_MS), i % (RING + 1));
    }
  };
  await Promise.all(Array.from({ length: RING }, worker));
}

export async function cppFrames(framer: ManagedPlugin, frames: number) {
  const consumer = checkingConsumer(framer);
  const grpcFrames = Math.max(RING, Math.ceil(frames / GRPC_SHARE));
  const zero = (): Totals => ({ ms: 0, frames: 0, copyMs: 0, waitMs: 0, takeMs: 0 });
  const paths = Object.keys(SHM_PATHS) as ShmPath[];
  const totals = Object.fromEntries([...paths, 'grpc'].map((p) => [p, zero()])) as Record<ShmPath | 'grpc', Totals>;
  try {
    for (const path of paths) await streamShm(framer, consumer, path, RING * 2); // warm-up
    await streamGrpc(framer, RING);
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of paths) {
        (globalThis as { gc?: () => void }).gc?.();
        const started = performance.now();
        const produced = await streamShm(framer, consumer, path, frames);
        const t = totals[path];
        t.ms += performance.now() - started;
        t.frames += frames;
        t.copyMs += produced.copyMs;
        t.waitMs += produced.waitMs;
        t.takeMs += consumer.takeMs();
      }
      (globalThis as { gc?: () => void }).gc?.();
      const started = performance.now();
      await streamGrpc(framer, grpcFrames);
      totals.grpc.ms += performance.now() - started;
      totals.grpc.frames += grpcFrames;
    }
  } finally {
    consumer.stop();
  }
  return summary(totals);
}

const PATHS: Record<ShmPath | 'grpc', string> = {
  ring: 'shared memory, SharedMemoryRing',
  wait: 'shared memory, each notify waited for',
  create: "shared memory, the specification's example per frame",
  'ring-copied': 'shared memory, SharedMemoryRing, copied out',
  grpc: 'gRPC results',
};

function summary(totals: Record<ShmPath | 'grpc', Totals>) {
  const rate = (t: Totals) => gbps(FRAME_BYTES * t.frames, t.ms);
  const perFrame = (t: Totals, ms: number) => (t.frames ? ms / t.frames : 0);
  const grpc = rate(totals.grpc);
  const rows = (Object.keys(PATHS) as Array<ShmPath | 'grpc'>).map((key) => {
    const t = totals[key];
    return {
      path: PATHS[key],
      frames: t.frames,
      msPerFrame: perFrame(t, t.ms),
      gbPerSecond: rate(t),
      vsGrpc: rate(t) / grpc,
      pluginCopyMs: perFrame(t, t.copyMs),
      pluginWaitMs: perFrame(t, t.waitMs),
      hostTakeMs: perFrame(t, t.takeMs),
    };
  });
  const json = Object.fromEntries(rows.map((row, i) => [Object.keys(PATHS)[i] as string, row]));
  return { rows, json: { bytes: FRAME_BYTES, inFlight: RING, paths: json } };
}
