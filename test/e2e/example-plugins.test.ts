import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { PluginStatus } from '../../src/orchestrator/index.ts';
import { redisKeys } from '../../src/redis/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { EXAMPLES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const HELLO = 'com.example.hello-world';
const PEEK = 'com.example.course-peek';

async function courses(redis: Redis, tenant: string): Promise<Array<{ id: number; name: string }>> {
  return (await redis.hvals(redisKeys.courses(tenant))).map((json) => JSON.parse(json));
}

describe('the example plugins, two tenants', () => {
  let t: TestOrchestrator;
  const events: Array<{ channel: string; event_name: string; source_plugin_id: string }> = [];
  let subscriber: Redis;

  before(async () => {
    const tenants = [
      { id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world'), path.join(EXAMPLES, 'course-peek')] },
      {
        id: 'school-b',
        permissions: ['read:courses', 'modify:courses', 'emit:events'],
        plugins: [path.join(EXAMPLES, 'hello-world')],
      },
    ];
    t = await startTestOrchestrator(tenants, {
      beforeStart: async (redis) => {
        subscriber = redis.duplicate();
        subscriber.on('pmessage', (_p: string, channel: string, message: string) =>
          events.push({ channel, ...JSON.parse(message) }),
        );
        await subscriber.psubscribe(redisKeys.allEvents());
      },
    });
  });

  after(async () => {
    subscriber?.disconnect();
    await t?.stop();
  });

  it('enables every plugin, each in its own container, as the admin API shows', async () => {
    const { status, body } = await admin<PluginStatus[]>(t.adminUrl, 'GET', '/v1/plugins');
    assert.equal(status, 200);
    assert.deepEqual(
      body.map((p) => [p.tenant, p.id, p.version, p.state]).sort(),
      [
        ['school-a', HELLO, '1.0.0', 'ENABLED'],
        ['school-a', PEEK, '1.0.0', 'ENABLED'],
        ['school-b', HELLO, '1.0.0', 'ENABLED'],
      ].sort(),
    );
    const containerIds = body.map((p) => p.containerId);
    assert.equal(new Set(containerIds).size, 3, 'one container per plugin instance');
    for (const id of containerIds) assert.match(id ?? '', /^[0-9a-f]{64}$/);
  });

  it("hello-world's calls reached the host: each tenant has its own course", async () => {
    const a = await courses(t.redis, 'school-a');
    const b = await courses(t.redis, 'school-b');
    assert.deepEqual(
      a.map((c) => c.name),
      ['Hello World 101'],
    );
    assert.deepEqual(
      b.map((c) => c.name),
      ['Hello World 101'],
    );
  });

  it('calls a function a plugin exports (host → plugin)', async () => {
    const { status, body } = await admin(t.adminUrl, 'POST', `/v1/plugins/school-a/${HELLO}/functions/process_data`, {
      name: 'Ada',
    });
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ok', greeting: 'hello, Ada', enableCount: 1 });
  });

  it('a call beyond its permissions is refused with PERMISSION_DENIED and the host data is unchanged', async () => {
    const before = await courses(t.redis, 'school-a');
    const { body } = await admin<{ refused: string; message: string }>(
      t.adminUrl,
      'POST',
      `/v1/plugins/school-a/${PEEK}/functions/try_add_course`,
      {
        name: 'Sneaky',
      },
    );
    assert.equal(body.refused, 'PERMISSION_DENIED');
    assert.match(body.message, /add_course needs permission 'modify:courses'/);
    assert.deepEqual(await courses(t.redis, 'school-a'), before);
  });

  it("a plugin's own events carry its id and its namespace; system events say system; tenants' events stay apart", () => {
    const started = events.filter((e) => e.event_name === `${HELLO}/hello_world_started`);
    assert.deepEqual(started.map((e) => e.channel).sort(), [
      redisKeys.events('school-a'),
      redisKeys.events('school-b'),
    ]);
    assert.ok(started.every((e) => e.source_plugin_id === HELLO));
    const courseUpdates = events.filter((e) => e.event_name === 'course_update');
    assert.ok(courseUpdates.length >= 2 && courseUpdates.every((e) => e.source_plugin_id === 'system'));
  });

  it('an unknown plugin or function answers NOT_FOUND', async () => {
    const missing = await admin<{ error: { code: string } }>(
      t.adminUrl,
      'GET',
      '/v1/plugins/school-a/com.example.nope',
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
    const fn = await admin<{ error: { code: string; message: string } }>(
      t.adminUrl,
      'POST',
      `/v1/plugins/school-a/${HELLO}/functions/nope`,
      {},
    );
    assert.equal(fn.status, 404);
    assert.match(fn.body.error.message, /exports no function 'nope'/);
  });

  it('shutdown runs onDisable and leaves no container, socket or shm directory', async () => {
    const { config, runtime } = t;
    const running = await leftovers(config, runtime);
    assert.equal(running.containers.length, 3);
    assert.equal(running.shmDirs.length, 3);
    await t.orchestrator.stop();
    assert.deepEqual(await leftovers(config, runtime), {
      containers: [],
      socketDirs: [],
      socketLinks: [],
      shmDirs: [],
    });
    const stopped = events.filter((e) => e.event_name === `${HELLO}/hello_world_stopped`);
    assert.equal(stopped.length, 2, 'onDisable of both hello-world instances emitted hello_world_stopped');
    assert.deepEqual(
      t.orchestrator.list().map((p) => p.state),
      ['DISABLED', 'DISABLED', 'DISABLED'],
    );
  });
});
