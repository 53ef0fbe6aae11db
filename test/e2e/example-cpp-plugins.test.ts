import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { redisKeys } from '../../src/redis/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { capturedLog, type LogLine } from '../helpers/captured-log.ts';
import { buildCppExamples } from '../helpers/cpp-plugins.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { pollUntil } from '../helpers/poll.ts';
import { EXAMPLES, REPO_ROOT, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-a';
const EXAMPLE = 'com.example.cpp_plugin';
const PRODUCER = 'com.example.frame-producer';
const CPP_EXAMPLES = ['plugins/example-cpp', 'plugins/frame-producer'];
const FRAME_BYTES = 1920 * 1080 * 3;
const FRAMES = 5;
const POLL_MS = 100;
const MAX_POLLS = 300;

/** Frame n of the producer's stream: byte i is (i * 7 + n) % 251 (examples/plugins/frame-producer). */
function expectedFrame(n: number): Buffer {
  const bytes = Buffer.allocUnsafe(FRAME_BYTES);
  for (let i = 0; i < FRAME_BYTES; i++) bytes[i] = (i * 7 + n) % 251;
  return bytes;
}

/** school-a as examples/config.yaml declares it: the C++ examples must be among its plugins. */
function schoolA(): { permissions: string[]; plugins: string[] } {
  const config = parse(readFileSync(path.join(REPO_ROOT, 'examples/config.yaml'), 'utf8')) as {
    tenants: Array<{ id: string; permissions: string[]; plugins: string[] }>;
  };
  const tenant = config.tenants.find((t) => t.id === TENANT);
  assert.ok(tenant, `examples/config.yaml has tenant ${TENANT}`);
  for (const plugin of CPP_EXAMPLES) assert.ok(tenant.plugins.includes(plugin), `examples/config.yaml runs ${plugin}`);
  return tenant;
}

describe('the C++ examples, built and signed by the set-up, as examples/config.yaml runs them', () => {
  const { log, lines } = capturedLog();
  let t: TestOrchestrator;

  const pluginLog = (pluginId: string) =>
    lines
      .filter((l: LogLine) => l.msg === 'plugin log' && l.pluginId === pluginId)
      .map((l) => (l.plugin as { message: string }).message);
  const stream = (body: unknown) =>
    admin<Record<string, unknown>>(
      t.adminUrl,
      'POST',
      `/v1/plugins/${TENANT}/${PRODUCER}/functions/stream_frames`,
      body,
    );

  before(async () => {
    const { permissions } = schoolA();
    await buildCppExamples();
    const plugins = CPP_EXAMPLES.map((p) => path.join(EXAMPLES, path.basename(p)));
    t = await startTestOrchestrator([{ id: TENANT, permissions, plugins }], { log });
  });

  after(async () => {
    await t?.stop();
  });

  it('both are ENABLED, signed by the example developer; the example logged its OnEnable lines', () => {
    for (const id of [EXAMPLE, PRODUCER]) {
      const status = t.status(TENANT, id);
      assert.equal(status.state, 'ENABLED', status.lastError ?? '');
      assert.equal(status.signed, true, `${id} is signed`);
      assert.match(status.signer?.subject ?? '', /CN=Example Developer/);
    }
    assert.deepEqual(pluginLog(EXAMPLE), ['C++ Example plugin enabled', 'Total courses: 0']);
  });

  it("the example logs each schedule_update the host publishes, with the event's data", async () => {
    const data = { action: 'added', course_id: 1, entry_id: 7 };
    const now = Date.now();
    // What the host publishes when a schedule entry is added (src/host, system events).
    await t.redis.publish(
      redisKeys.events(TENANT),
      JSON.stringify({
        event_name: 'schedule_update',
        event_data: JSON.stringify(data),
        timestamp: Math.floor(now / 1000),
        source_plugin_id: 'system',
        timestamp_ms: now,
      }),
    );
    const updates = await pollUntil(
      async () => pluginLog(EXAMPLE).filter((m) => m.startsWith('Schedule updated: ')),
      (list) => list.length >= 1,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(updates.length, 1);
    assert.deepEqual(JSON.parse(updates[0]!.slice('Schedule updated: '.length)), data);
  });

  it(`frame-producer streams ${FRAMES} 1920×1080×3 frames through SharedMemory; a host consumer reads each byte for byte`, async () => {
    const producer = t.orchestrator.find(TENANT, PRODUCER);
    const received: Array<{ name: string; size: number; whole: boolean }> = [];
    const stop = producer.consumeSharedMemory(async (region) => {
      const n = received.length;
      const whole = await region.view((bytes) => bytes.equals(expectedFrame(n)));
      received.push({ name: region.name, size: region.size, whole });
    });
    try {
      const answer = await stream({ frames: FRAMES });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(
        { ...answer.body, ms: undefined },
        { name: 'image_data', size: FRAME_BYTES, frames: FRAMES, streamed: FRAMES, ms: undefined },
      );
    } finally {
      stop();
    }
    assert.deepEqual(
      received,
      Array.from({ length: FRAMES }, () => ({ name: 'image_data', size: FRAME_BYTES, whole: true })),
      'every frame whole, in order: the next one waited for the consumer',
    );
    assert.match(pluginLog(PRODUCER).at(-1) ?? '', /^streamed 5 frame\(s\) of 6220800 bytes in \d+ ms$/);
    // The last frame stays in the region: the admin API reads it too.
    const response = await fetch(`${t.adminUrl}/v1/plugins/${TENANT}/${PRODUCER}/shm/image_data`);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(expectedFrame(FRAMES - 1)));
  });

  it('frame-producer refuses a count out of bounds, naming the argument', async () => {
    const refused = await stream({ frames: 0 });
    assert.equal(refused.status, 400);
    assert.match(
      JSON.stringify(refused.body),
      /frames must be 1 to 300, in \{\\"frames\\": N\}; got \{\\"frames\\":0\}/,
    );
  });

  it('shutdown runs both OnDisable hooks and leaves no container, socket or shm directory', async () => {
    await t.orchestrator.stop();
    assert.equal(pluginLog(EXAMPLE).at(-1), 'C++ Example plugin disabled');
    assert.equal(pluginLog(PRODUCER).at(-1), 'frame-producer disabled');
    assert.deepEqual(await leftovers(t.config, t.runtime), {
      containers: [],
      socketDirs: [],
      socketLinks: [],
      shmDirs: [],
    });
  });
});
