import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SandboxError } from '../../src/errors/index.ts';
import { PluginLock, PluginStateStore } from '../../src/lifecycle/index.ts';
import { EmbeddedRedis } from '../../src/redis/index.ts';

describe('the lifecycle state store and plugin lock, on real Redis', () => {
  let server: EmbeddedRedis;
  let redis: Redis;

  before(async () => {
    server = await EmbeddedRedis.start();
    redis = new Redis({ path: server.socketPath });
  });

  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('follows the specification table, records why, and refuses an illegal transition naming the current state', async () => {
    const store = new PluginStateStore(redis);
    assert.equal((await store.get('t', 'com.x.p')).state, 'DISCOVERED');
    await store.transition('t', 'com.x.p', 'LOADED', 'loaded', { version: '1.0.0', owner: 'o1' });
    await store.transition('t', 'com.x.p', 'INITIALIZED', 'onEnable ok');
    await store.transition('t', 'com.x.p', 'ENABLED', 'enabled');
    await assert.rejects(
      store.transition('t', 'com.x.p', 'INITIALIZED', 'skip ahead'),
      (err: unknown) =>
        err instanceof SandboxError &&
        err.code === 'INVALID_REQUEST' &&
        /cannot go from ENABLED to INITIALIZED: skip ahead/.test(err.message),
    );
    const failed = await store.transition('t', 'com.x.p', 'ERROR', 'boom', {
      error: { message: 'boom', reason: 'CRASHED' },
    });
    assert.deepEqual([failed.from, failed.to], ['ENABLED', 'ERROR']);
    const stored = await store.get('t', 'com.x.p');
    assert.deepEqual(
      [stored.state, stored.version, stored.lastError, stored.reason, stored.owner],
      ['ERROR', '1.0.0', 'boom', 'CRASHED', 'o1'],
    );
    const history = await store.history('t', 'com.x.p');
    assert.deepEqual(
      history.map((h) => h.to),
      ['ERROR', 'ENABLED', 'INITIALIZED', 'LOADED'],
    );
    assert.ok(history.every((h) => !Number.isNaN(Date.parse(h.at)) && h.reason.length > 0));
  });

  it('lets one holder at a time work on a plugin, and frees the lock of a holder that died', async () => {
    const lock = new PluginLock(redis, 500);
    let release!: () => void;
    const held = lock.withLock(
      't',
      'com.x.p',
      () => new Promise<string>((resolve) => (release = () => resolve('first'))),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await lock.withLock('t', 'com.x.p', async () => 'second'), { ran: false });
    assert.deepEqual(await lock.withLock('t', 'com.x.other', async () => 'other plugin'), {
      ran: true,
      value: 'other plugin',
    });
    release();
    assert.deepEqual(await held, { ran: true, value: 'first' });
    assert.deepEqual(await lock.withLock('t', 'com.x.p', async () => 'after release'), {
      ran: true,
      value: 'after release',
    });

    // A holder that died: its key is there but nobody renews it.
    await redis.set('classtop:{t}:plugin-lock:com.x.dead', 'someone-else', 'PX', 300);
    assert.deepEqual(await lock.withLock('t', 'com.x.dead', async () => 'x'), { ran: false });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(await lock.withLock('t', 'com.x.dead', async () => 'taken over'), {
      ran: true,
      value: 'taken over',
    });
  });
});
