/**
 * Frames from a Node plugin (test/fixtures/plugins/framer) to the host: through shared memory vs
 * the same bytes in a gRPC result, one at a time and streamed (gateway.bench.ts runs these).
 */
import type { ManagedPlugin } from '../src/orchestrator/index.ts';
import { checkFrame, FRAME_BYTES } from './frame-check.ts';
import { report, summarize, timed } from './report.ts';

/** Frames in flight when streaming, on both paths. */
export const STREAM_RING = 3;
const RING = STREAM_RING;
const ROUNDS = 3;
const DEADLINE_MS = 10_000;

/**
 * Each 6 MB gRPC frame leaves 6 MB of garbage in this process and in the plugin; collected
 * between blocks (the bench runs with --expose-gc), it is not charged to whichever path happens
 * to run next.
 */
async function collectGarbage(framer: ManagedPlugin): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await framer.callFunction('collect_garbage', body(null), Date.now() + DEADLINE_MS);
}

const gbps = (bytes: number, ms: number) => bytes / (ms / 1000) / 1e9;
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

/**
 * One frame at a time, asked for by the host: the latency of call + transfer. Blocks rather than
 * single frames alternate: the garbage a 6 MB gRPC message leaves would otherwise be collected
 * during the next shared-memory frame.
 */
export async function singleFrames(framer: ManagedPlugin, frames: number) {
  const taken: number[] = [];
  const copied: number[] = [];
  const ask = body({ size: FRAME_BYTES, seed: 1 });
  // A host-side consumer takes each frame in place, during the plugin's announcement.
  const stop = framer.consumeSharedMemory(async (region) => {
    const started = performance.now();
    await region.view((bytes) => checkFrame(bytes));
    taken.push(performance.now() - started);
  });
  // For comparison, outside the timed call: the same frame copied into a buffer the host owns.
  const mirror = Buffer.allocUnsafe(FRAME_BYTES);
  const copyOut = async () => {
    const started = performance.now();
    checkFrame(await framer.readSharedMemory('frame', mirror));
    copied.push(performance.now() - started);
  };
  const shm = () => framer.callFunction('frame_shm', ask, Date.now() + DEADLINE_MS);
  const grpc = async () => checkFrame(await framer.callFunction('frame_grpc', ask, Date.now() + DEADLINE_MS));
  try {
    await shm();
    await grpc();
    taken.splice(0);
    const f = { shm: [] as number[], grpc: [] as number[] };
    const block = Math.max(1, Math.ceil(frames / 4));
    for (let done = 0; done < frames; done += block) {
      await collectGarbage(framer);
      for (let i = 0; i < block; i++) {
        f.shm.push(await timed(shm));
        await copyOut();
      }
      await collectGarbage(framer);
      for (let i = 0; i < block; i++) f.grpc.push(await timed(grpc));
    }
    const s = summarize(f.shm);
    const r = summarize(f.grpc);
    const inPlace = summarize(taken);
    const copy = summarize(copied);
    report(
      `one ${FRAME_BYTES}-byte frame at a time, plugin → host (call + transfer)`,
      [
        { path: 'shared memory', frames: s.calls, p50Ms: s.p50, gbPerSecond: gbps(FRAME_BYTES, s.p50) },
        { path: 'gRPC result', frames: r.calls, p50Ms: r.p50, gbPerSecond: gbps(FRAME_BYTES, r.p50) },
        { path: 'ratio shm / gRPC (speed)', frames: 0, p50Ms: r.p50 / s.p50, gbPerSecond: r.p50 / s.p50 },
        { path: 'host takes the region in place', frames: inPlace.calls, p50Ms: inPlace.p50, gbPerSecond: 0 },
        {
          path: 'host copies the region out',
          frames: copy.calls,
          p50Ms: copy.p50,
          gbPerSecond: gbps(FRAME_BYTES, copy.p50),
        },
      ],
      null,
    );
    return { json: { bytes: FRAME_BYTES, shm: s, grpc: r, speedup: r.p50 / s.p50, inPlace, copy } };
  } finally {
    stop();
  }
}

/**
 * A stream of frames, as a video source would send them, with RING frames in flight on both
 * paths: through a ring of shm regions to a host consumer (the plugin writes region i % RING once
 * the host has taken its previous frame), against RING gRPC calls in flight, each returning a
 * frame. Every frame is checked; the two paths alternate, ROUNDS times each.
 */
export async function streamedFrames(framer: ManagedPlugin, streamFrames: number) {
  const taken = new Map<string, number>();
  const stop = framer.consumeSharedMemory(async (region) => {
    const count = taken.get(region.name) ?? 0;
    taken.set(region.name, count + 1);
    const frame = Number(region.name.slice('stream-'.length)) + count * RING;
    await region.view((bytes) => checkFrame(bytes, frame % (RING + 1)));
  });
  const shm = async () => {
    taken.clear();
    await framer.callFunction(
      'stream_shm',
      body({ size: FRAME_BYTES, frames: streamFrames, ring: RING }),
      Date.now() + DEADLINE_MS,
    );
  };
  const grpc = async () => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < streamFrames; i = next++) {
        const ask = body({ size: FRAME_BYTES, seed: i % (RING + 1) });
        checkFrame(await framer.callFunction('frame_grpc', ask, Date.now() + DEADLINE_MS), i % (RING + 1));
      }
    };
    await Promise.all(Array.from({ length: RING }, worker));
  };
  try {
    await shm();
    await grpc();
    const time = { shm: 0, grpc: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      await collectGarbage(framer);
      time.shm += await timed(shm);
      await collectGarbage(framer);
      time.grpc += await timed(grpc);
    }
    const bytes = FRAME_BYTES * streamFrames * ROUNDS;
    const rate = { shm: gbps(bytes, time.shm), grpc: gbps(bytes, time.grpc) };
    return {
      rows: [
        {
          path: 'shared memory',
          frames: streamFrames * ROUNDS,
          msPerFrame: time.shm / streamFrames / ROUNDS,
          gbPerSecond: rate.shm,
        },
        {
          path: 'gRPC results',
          frames: streamFrames * ROUNDS,
          msPerFrame: time.grpc / streamFrames / ROUNDS,
          gbPerSecond: rate.grpc,
        },
        {
          path: 'ratio shm / gRPC (speed)',
          frames: 0,
          msPerFrame: time.grpc / time.shm,
          gbPerSecond: rate.shm / rate.grpc,
        },
      ],
      json: {
        bytes: FRAME_BYTES,
        frames: streamFrames * ROUNDS,
        inFlight: RING,
        gbPerSecond: rate,
        speedup: rate.shm / rate.grpc,
      },
    };
  } finally {
    stop();
  }
}
