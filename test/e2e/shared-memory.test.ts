import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxError } from '../../src/errors/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const FRAMER = 'com.test.framer';
const FRAME_BYTES = 1920 * 1080 * 3;

function expected(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) % 251;
  return bytes;
}

describe('shared memory: the zero-copy path from plugin to host', () => {
  let t: TestOrchestrator;
  const call = (fn: string, body: unknown) =>
    admin<Record<string, unknown>>(t.adminUrl, 'POST', `/v1/plugins/school-a/${FRAMER}/functions/${fn}`, body);

  before(async () => {
    t = await startTestOrchestrator([
      {
        id: 'school-a',
        trust: exampleTrust({ allowUnsigned: true }),
        // A short deadline cap, for the consumer that never finishes.
        callLimits: { maxDeadlineMs: 3000 },
        plugins: [path.join(FIXTURES, 'framer')],
      },
    ]);
  });

  after(async () => {
    await t?.stop();
  });

  it('round-trips a 1920×1080×3 frame: written in the container, read by the host', async () => {
    const announced = await call('frame_shm', { size: FRAME_BYTES, seed: 3 });
    assert.deepEqual(announced.body, { name: 'frame', size: FRAME_BYTES });
    const response = await fetch(`${t.adminUrl}/v1/plugins/school-a/${FRAMER}/shm/frame`);
    assert.equal(response.status, 200);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(bytes.length, FRAME_BYTES);
    assert.ok(bytes.equals(expected(FRAME_BYTES, 3)), 'the bytes are the ones the plugin wrote');
    const direct = await t.orchestrator.find('school-a', FRAMER).readSharedMemory('frame');
    assert.ok(direct.equals(bytes));
  });

  it('reads frame after frame into a buffer the host owns, and refuses one too small', async () => {
    const framer = t.orchestrator.find('school-a', FRAMER);
    const mirror = Buffer.alloc(FRAME_BYTES + 10);
    for (const seed of [4, 5]) {
      await call('frame_shm', { size: FRAME_BYTES, seed });
      const frame = await framer.readSharedMemory('frame', mirror);
      assert.equal(frame.buffer, mirror.buffer, 'no new buffer');
      assert.equal(frame.length, FRAME_BYTES);
      assert.ok(frame.equals(expected(FRAME_BYTES, seed)), `frame ${seed}`);
    }
    await assert.rejects(
      framer.readSharedMemory('frame', Buffer.alloc(100)),
      /cannot hold shared memory region 'frame'/,
    );
  });

  it('streams frames through a ring of regions to a host consumer, which gets every frame whole', async () => {
    const framer = t.orchestrator.find('school-a', FRAMER);
    const ring = 2;
    const frames = 10;
    // The framer writes frame i into region stream-(i % ring), with seed i % (ring + 1).
    const seeds = Array.from({ length: ring + 1 }, (_, seed) => expected(FRAME_BYTES, seed));
    const taken = new Map<string, number>();
    const received: Array<{ frame: number; whole: boolean }> = [];
    const stop = framer.consumeSharedMemory(async (region) => {
      const slot = Number(region.name.replace('stream-', ''));
      const frame = slot + (taken.get(region.name) ?? 0) * ring;
      taken.set(region.name, (taken.get(region.name) ?? 0) + 1);
      // A slow consumer: a producer that did not wait for it would overwrite the region meanwhile.
      await sleep(20);
      // Taken in place: a frame overwritten meanwhile would show here.
      const whole = await region.view((bytes) => bytes.equals(seeds[frame % (ring + 1)]!));
      received.push({ frame, whole });
    });
    try {
      const answer = await call('stream_shm', { size: FRAME_BYTES, frames, ring });
      assert.deepEqual(answer.body, { frames });
      assert.deepEqual(
        received.sort((a, b) => a.frame - b.frame),
        Array.from({ length: frames }, (_, frame) => ({ frame, whole: true })),
      );
    } finally {
      stop();
    }
    await call('frame_shm', { size: 100, seed: 1 });
    assert.equal(received.length, frames, 'a stopped consumer is not called again');
  });

  it('lends a region in place; a plugin that shrinks it meanwhile is refused, and the host carries on', async () => {
    const framer = t.orchestrator.find('school-a', FRAMER);
    const size = 4 * 1024 * 1024;
    await call('frame_shm', { size, seed: 2 });
    const seen: Array<Record<string, boolean>> = [];
    const stop = framer.consumeSharedMemory((region) =>
      region.view(async (bytes) => {
        const before = { whole: bytes.equals(expected(size, 2)) };
        // The plugin's own pages: what it writes now shows through the view at once.
        await framer.callFunction('frame_shm_write', Buffer.from(JSON.stringify({ size, seed: 6 })), Date.now() + 5000);
        const rewritten = bytes.equals(expected(size, 6));
        // Now it cuts the region short while the host still holds it: the lost pages read as zeros.
        await framer.callFunction(
          'truncate',
          Buffer.from(JSON.stringify({ name: 'frame', size: 4096 })),
          Date.now() + 5000,
        );
        seen.push({ ...before, rewritten, tail: bytes.subarray(size - 4096).every((byte) => byte === 0) });
      }),
    );
    try {
      const refused = (await call('announce', { name: 'frame', size })).body;
      assert.equal(refused.code, 'INVALID_REQUEST');
      assert.match(
        String(refused.message),
        /region 'frame' shrank below the 4194304 bytes announced while the host read it/,
      );
      assert.deepEqual(seen, [{ whole: true, rewritten: true, tail: true }]);
    } finally {
      stop();
    }
    // The host is unharmed, and the same region, made whole again, is taken as before.
    const whole: boolean[] = [];
    const stopChecking = framer.consumeSharedMemory((region) =>
      region.view((bytes) => {
        whole.push(bytes.equals(expected(size, 7)));
      }),
    );
    try {
      assert.deepEqual((await call('frame_shm', { size, seed: 7 })).body, { name: 'frame', size });
      assert.deepEqual(whole, [true]);
    } finally {
      stopChecking();
    }
  });

  it('a consumer that refuses a region tells the plugin why; its own failure tells nothing', async () => {
    const framer = t.orchestrator.find('school-a', FRAMER);
    await call('frame_shm', { size: 100, seed: 1 });
    const stopRefusing = framer.consumeSharedMemory(() => {
      throw new SandboxError('INVALID_REQUEST', 'frames must be 1920×1080×3');
    });
    try {
      assert.deepEqual((await call('announce', { name: 'frame', size: 100 })).body, {
        code: 'INVALID_REQUEST',
        message: 'frames must be 1920×1080×3',
      });
    } finally {
      stopRefusing();
    }
    const stopFailing = framer.consumeSharedMemory(() => {
      throw new Error('ENOENT: /var/lib/host-secret/frames');
    });
    try {
      assert.deepEqual((await call('announce', { name: 'frame', size: 100 })).body, {
        code: 'INTERNAL_ERROR',
        message: "the host could not take shared memory region 'frame'",
      });
    } finally {
      stopFailing();
    }
    assert.deepEqual((await call('announce', { name: 'frame', size: 100 })).body, { ok: true });
  });

  it('a consumer that never finishes ends the announcement with TIMEOUT at the deadline cap', async () => {
    const framer = t.orchestrator.find('school-a', FRAMER);
    await call('frame_shm', { size: 100, seed: 1 });
    const withdrawn: AbortSignal[] = [];
    const stop = framer.consumeSharedMemory((region) => {
      withdrawn.push(region.withdrawn);
      return new Promise<void>(() => {});
    });
    try {
      const answer = (await call('announce', { name: 'frame', size: 100 })).body;
      assert.equal(answer.code, 'TIMEOUT');
      assert.match(String(answer.message), /the host did not take shared memory region 'frame' within \d+ ms/);
      // The consumer is told that the plugin may write the region again.
      assert.equal(withdrawn.length, 1);
      assert.equal(withdrawn[0]?.aborted, true);
      assert.match(String(withdrawn[0]?.reason), /did not take shared memory region 'frame'/);
    } finally {
      stop();
    }
    assert.deepEqual((await call('announce', { name: 'frame', size: 100 })).body, { ok: true });
  });

  it('rejects a bad name and a size beyond the plugin’s shm_mb', async () => {
    for (const name of ['../escape', 'a/b', '', 'x'.repeat(65)]) {
      const refused = (await call('announce', { name, size: 10 })).body;
      assert.equal(refused.code, 'INVALID_REQUEST', name);
      assert.match(
        String(refused.message),
        /payload\.name: must be 1-64 letters, digits, "_" or "-" \(no "\/", no "\.\."\)/,
      );
    }
    const tooBig = (await call('announce', { name: 'big', size: 33 * 1024 * 1024 })).body;
    assert.equal(tooBig.code, 'INVALID_REQUEST');
    assert.match(String(tooBig.message), /exceeds this plugin's shm_mb \(33554432 bytes\)/);
  });

  it('a region that does not fit in the plugin’s shm_mb fails at create, not with a SIGBUS at its first write', async () => {
    const refused = (await call('create', { name: 'huge', size: 40 * 1024 * 1024 })).body;
    assert.match(
      String(refused.error),
      /shared memory 'huge' \(41943040 bytes\) does not fit in what is left of this plugin's shm_mb; raise sandbox\.shm_mb/,
    );
    assert.ok(!(refused.files as string[]).includes('huge'), 'no region half made');
    assert.equal((await call('create', { name: 'fits', size: 16 * 1024 * 1024 })).body.ok, true, 'nothing was kept');
  });

  it('never follows a symlink the plugin planted in its shm directory', async () => {
    assert.deepEqual((await call('symlink', { name: 'evil', target: '/etc/passwd' })).body, { ok: true });
    const read = await admin<{ error: { code: string; message: string } }>(
      t.adminUrl,
      'GET',
      `/v1/plugins/school-a/${FRAMER}/shm/evil`,
    );
    assert.equal(read.status, 404);
    assert.match(read.body.error.message, /shared memory region 'evil' is a symlink/);
    const announced = (await call('announce', { name: 'evil', size: 100 })).body;
    assert.equal(announced.code, 'NOT_FOUND', 'nor can a symlink be announced');
    assert.match(String(announced.message), /shared memory region 'evil' is a symlink/);
  });

  it('only a region that exists can be announced', async () => {
    const announced = (await call('announce', { name: 'never-created', size: 100 })).body;
    assert.equal(announced.code, 'NOT_FOUND');
    assert.match(String(announced.message), /shared memory region 'never-created' does not exist/);
  });

  it('a region nobody announced is not readable', async () => {
    const read = await admin<{ error: { code: string } }>(
      t.adminUrl,
      'GET',
      `/v1/plugins/school-a/${FRAMER}/shm/nothing`,
    );
    assert.equal(read.status, 404);
  });
});
