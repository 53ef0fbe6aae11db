import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { PluginLock } from './plugin-lock.ts';
import { EmbeddedRedis, redisKeys } from '../redis/index.ts';
import { capturedLog, LOG_LEVEL } from '../../test/helpers/captured-log.ts';

/** Short enough that renewals (every third of it) come while a test's work waits. */
const LOCK_TTL_MS = 300;

describe('the plugin lock reports a lost or unrenewable lock, on real Redis', () => {
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

  it('reports a lock another holder took (event and error log naming the plugin), and leaves that holder’s lock alone', async () => {
    const { log, lines } = capturedLog();
    const lock = new PluginLock(redis, LOCK_TTL_MS, log);
    const key = redisKeys.pluginLock('t-lost', 'com.x.lost');
    const result = await lock.withLock('t-lost', 'com.x.lost', async () => {
      const lost = once(lock, 'lost');
      // The lock expired and another process took it: the next renewal finds it is not ours.
      await redis.set(key, 'another-holder', 'PX', 60_000);
      const [trouble] = (await lost) as [{ tenant: string; pluginId: string }];
      return trouble;
    });
    assert.deepEqual(result, { ran: true, value: { tenant: 't-lost', pluginId: 'com.x.lost' } });
    const line = lines.find((l) => l.level === LOG_LEVEL.error && /plugin lock lost/.test(l.msg));
    assert.ok(line, `an error line reports the loss; got ${JSON.stringify(lines)}`);
    assert.equal(line.tenant, 't-lost');
    assert.equal(line.pluginId, 'com.x.lost');
    assert.match(line.msg, /another job for this plugin may start/, 'it says what happens next');
    assert.equal(await redis.get(key), 'another-holder', 'releasing does not delete a lock that is not ours');
    await redis.del(key);
  });

  it('reports a renewal Redis did not answer, keeps the job running, and reports the release it could not make', async () => {
    const { log, lines } = capturedLog();
    const own = new Redis({ path: server.socketPath });
    const lock = new PluginLock(own, LOCK_TTL_MS, log);
    const result = await lock.withLock('t-down', 'com.x.down', async () => {
      const failed = once(lock, 'renewalFailed');
      own.disconnect(); // this process loses Redis while the job runs
      const [trouble] = (await failed) as [{ tenant: string; pluginId: string; err: unknown }];
      return trouble;
    });
    assert.equal(result.ran, true);
    assert.ok(result.ran && result.value.err instanceof Error, 'the event carries what Redis answered');
    assert.deepEqual(result.ran && [result.value.tenant, result.value.pluginId], ['t-down', 'com.x.down']);
    const renewal = lines.find((l) => l.level === LOG_LEVEL.warn && /renewal failed/.test(l.msg));
    assert.ok(renewal, `a warning reports the failed renewal; got ${JSON.stringify(lines)}`);
    assert.equal(renewal.pluginId, 'com.x.down');
    assert.match(renewal.msg, /trying again/);
    const release = lines.find((l) => l.level === LOG_LEVEL.warn && /could not release/.test(l.msg));
    assert.ok(release, 'the failed release is reported, not swallowed');
    assert.equal(release.pluginId, 'com.x.down');
    assert.match(release.msg, /expires by itself/);
  });
});
