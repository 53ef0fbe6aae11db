import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SandboxError } from '../../src/errors/index.ts';
import type { SharedMemoryRegion } from '../../src/orchestrator/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { compileCppPlugins } from '../helpers/cpp-plugins.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-cpp-shm';
const FRAMER = 'com.test.cpp-framer';
const FRAME_BYTES = 1920 * 1080 * 3;
const RING = 3;

function expected(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) % 251;
  return bytes;
}

/** cpp-framer writes frame i into region stream-(i % RING) with seed i % (RING + 1). */
const SEEDS = Array.from({ length: RING + 1 }, (_, seed) => expected(FRAME_BYTES, seed));

describe('shared memory from a C++ plugin: SharedMemoryRing and the specification’s example, frame after frame', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-cpp-shm-'));
  let t: TestOrchestrator;
  const stream = (mode: string, frames: number) =>
    admin<{ frames?: number; error?: { code: string; message: string } }>(
      t.adminUrl,
      'POST',
      `/v1/plugins/${TENANT}/${FRAMER}/functions/stream_shm`,
      { size: FRAME_BYTES, frames, ring: RING, mode },
    );

  /** A consumer taking each frame in place and checking all its bytes; frame numbers by region. */
  function frameOf(): (region: SharedMemoryRegion) => number {
    const taken = new Map<string, number>();
    return (region) => {
      const count = taken.get(region.name) ?? 0;
      taken.set(region.name, count + 1);
      return Number(region.name.replace('stream-', '')) + count * RING;
    };
  }

  before(async () => {
    cpSync(path.join(FIXTURES, 'cpp-framer'), path.join(scratch, 'cpp-framer'), { recursive: true });
    await compileCppPlugins(scratch, ['cpp-framer']);
    t = await startTestOrchestrator([
      {
        id: TENANT,
        trust: exampleTrust({ allowUnsigned: true }),
        plugins: [path.join(scratch, 'cpp-framer')],
      },
    ]);
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a ring announces the next frame while the host still holds the last, and every frame arrives whole', async () => {
    const framer = t.orchestrator.find(TENANT, FRAMER);
    const frames = 12;
    const numbered = frameOf();
    const received: Array<{ frame: number; whole: boolean }> = [];
    let held = 0;
    let mostHeld = 0;
    // Frame 0 is held until frame 1 is announced: a producer waiting for each answer would
    // never announce it, and the call would fail at its deadline.
    let secondArrived: () => void = () => undefined;
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    const stop = framer.consumeSharedMemory(async (region) => {
      const frame = numbered(region);
      held++;
      mostHeld = Math.max(mostHeld, held);
      if (frame === 1) secondArrived();
      try {
        // Taken in place: a frame overwritten while held would show here.
        const whole = await region.view(async (bytes) => {
          if (frame === 0) await second;
          return bytes.equals(SEEDS[frame % (RING + 1)] as Buffer);
        });
        received.push({ frame, whole });
      } finally {
        held--;
      }
    });
    try {
      const answer = await stream('ring', frames);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.frames, frames);
    } finally {
      stop();
    }
    assert.deepEqual(
      received.sort((a, b) => a.frame - b.frame),
      Array.from({ length: frames }, (_, frame) => ({ frame, whole: true })),
    );
    assert.ok(mostHeld >= 2, `frames held by the host at once: ${mostHeld}`);
  });

  it('the specification’s example per frame, and regions kept with each answer waited for, deliver every frame whole', async () => {
    const framer = t.orchestrator.find(TENANT, FRAMER);
    for (const mode of ['create', 'wait']) {
      const numbered = frameOf();
      const received: Array<{ frame: number; whole: boolean }> = [];
      const stop = framer.consumeSharedMemory(async (region) => {
        const frame = numbered(region);
        // Copied out this time, into a buffer of the host's own.
        const bytes = await region.read();
        received.push({ frame, whole: bytes.equals(SEEDS[frame % (RING + 1)] as Buffer) });
      });
      try {
        const answer = await stream(mode, 5);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      } finally {
        stop();
      }
      assert.deepEqual(
        received.sort((a, b) => a.frame - b.frame),
        Array.from({ length: 5 }, (_, frame) => ({ frame, whole: true })),
        mode,
      );
    }
  });

  it("a frame the host refuses reaches the ring's producer as the host's PluginApiError, code and message", async () => {
    const framer = t.orchestrator.find(TENANT, FRAMER);
    let calls = 0;
    const stop = framer.consumeSharedMemory(() => {
      calls++;
      if (calls === 2) throw new SandboxError('INVALID_REQUEST', 'frame 1 is not wanted');
    });
    try {
      const answer = await stream('ring', 8);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(answer.body.error?.message ?? '', /frame 1 is not wanted/);
    } finally {
      stop();
    }
    // The ring is gone with the call; the next stream starts afresh.
    const numbered = frameOf();
    const whole: boolean[] = [];
    const stopChecking = framer.consumeSharedMemory((region) => {
      const frame = numbered(region);
      return region.view((bytes) => {
        whole.push(bytes.equals(SEEDS[frame % (RING + 1)] as Buffer));
      });
    });
    try {
      assert.equal((await stream('ring', 4)).status, 200);
      assert.deepEqual(whole, [true, true, true, true]);
    } finally {
      stopChecking();
    }
  });
});
