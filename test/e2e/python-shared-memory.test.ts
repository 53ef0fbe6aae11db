import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { admin } from '../helpers/admin-client.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-py';
const FRAMER = 'com.test.py-framer';
const FRAME_BYTES = 1920 * 1080 * 3;
const MIB = 1024 * 1024;

/** Byte i is (i * 7 + seed) % 251, as the fixture writes it. */
function expected(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) % 251;
  return bytes;
}

interface Refusal {
  type: string;
  code: string;
  message: string;
  files: string[];
}

describe('shared memory from a Python plugin (classtop.shared_memory), read by the host', () => {
  let t: TestOrchestrator;
  const call = <T = Record<string, unknown>>(fn: string, body: unknown) =>
    admin<T>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${FRAMER}/functions/${fn}`, body);

  before(async () => {
    t = await startTestOrchestrator([
      { id: TENANT, trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'py-framer')] },
    ]);
  });

  after(async () => {
    await t?.stop();
  });

  it('round-trips a 1920×1080×3 frame byte for byte: through the admin API and readSharedMemory', async () => {
    const announced = await call('frame_shm', { size: FRAME_BYTES, seed: 3 });
    assert.equal(announced.status, 200, JSON.stringify(announced.body));
    assert.deepEqual(announced.body, { name: 'frame', size: FRAME_BYTES });
    const response = await fetch(`${t.adminUrl}/v1/plugins/${TENANT}/${FRAMER}/shm/frame`);
    assert.equal(response.status, 200);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(bytes.length, FRAME_BYTES);
    assert.ok(bytes.equals(expected(FRAME_BYTES, 3)), 'the bytes are the ones the plugin wrote');
    const framer = t.orchestrator.find(TENANT, FRAMER);
    const mirror = Buffer.alloc(FRAME_BYTES);
    await call('frame_shm', { size: FRAME_BYTES, seed: 4 });
    const again = await framer.readSharedMemory('frame', mirror);
    assert.equal(again.buffer, mirror.buffer, 'read into the host’s own buffer');
    assert.ok(again.equals(expected(FRAME_BYTES, 4)), 'the same region, written again in place');
  });

  it('streams frames through a ring of regions to a host consumer, which gets every frame whole', async () => {
    const framer = t.orchestrator.find(TENANT, FRAMER);
    const ring = 2;
    const frames = 6;
    const seeds = Array.from({ length: ring + 1 }, (_, seed) => expected(FRAME_BYTES, seed));
    const taken = new Map<string, number>();
    const received: Array<{ frame: number; whole: boolean }> = [];
    const stop = framer.consumeSharedMemory(async (region) => {
      const slot = Number(region.name.replace('stream-', ''));
      const frame = slot + (taken.get(region.name) ?? 0) * ring;
      taken.set(region.name, (taken.get(region.name) ?? 0) + 1);
      // A slow consumer: a producer that did not wait for it would overwrite the region meanwhile.
      await sleep(20);
      const whole = await region.view((bytes) => bytes.equals(seeds[frame % (ring + 1)]!));
      received.push({ frame, whole });
    });
    try {
      const answer = await call('stream_shm', { size: FRAME_BYTES, frames, ring });
      assert.deepEqual(answer.body, { frames });
    } finally {
      stop();
    }
    assert.deepEqual(
      received.sort((a, b) => a.frame - b.frame),
      Array.from({ length: frames }, (_, frame) => ({ frame, whole: true })),
    );
  });

  it('a region beyond what is left of shm_mb fails at create with PluginApiError, leaving nothing', async () => {
    const refused = (await call<Refusal>('create', { name: 'huge', size: 40 * MIB })).body;
    assert.equal(refused.type, 'PluginApiError');
    assert.equal(refused.code, 'INVALID_REQUEST');
    assert.match(
      refused.message,
      /shared memory 'huge' \(41943040 bytes\) does not fit in what is left of this plugin's shm_mb; raise sandbox\.shm_mb/,
    );
    assert.ok(!refused.files.includes('huge'), 'no region half made');
    assert.equal((await call('create', { name: 'fits', size: 8 * MIB })).body.ok, true, 'nothing of it was kept');
  });

  it('a bad name fails at create; the gateway refuses a bad name or a size over shm_mb as PluginApiError', async () => {
    const badName = (await call<Refusal>('create', { name: '../escape', size: 10 })).body;
    assert.deepEqual([badName.type, badName.code], ['PluginApiError', 'INVALID_REQUEST']);
    assert.match(badName.message, /shared memory name '\.\.\/escape' must be 1-64 letters, digits, "_" or "-"/);
    for (const name of ['../escape', 'a/b', '', 'x'.repeat(65)]) {
      const refused = (await call<Refusal>('announce', { name, size: 10 })).body;
      assert.deepEqual([refused.type, refused.code], ['PluginApiError', 'INVALID_REQUEST'], name);
      assert.match(refused.message, /payload\.name: must be 1-64 letters, digits, "_" or "-" \(no "\/", no "\.\."\)/);
    }
    const tooBig = (await call<Refusal>('announce', { name: 'frame', size: 33 * MIB })).body;
    assert.deepEqual([tooBig.type, tooBig.code], ['PluginApiError', 'INVALID_REQUEST']);
    assert.match(tooBig.message, /exceeds this plugin's shm_mb \(33554432 bytes\)/);
    const missing = (await call<Refusal>('announce', { name: 'never-created', size: 100 })).body;
    assert.deepEqual([missing.type, missing.code], ['PluginApiError', 'NOT_FOUND']);
  });
});
