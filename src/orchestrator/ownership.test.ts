import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { capturedLog, LOG_LEVEL } from '../../test/helpers/captured-log.ts';
import { EmbeddedRedis, redisKeys } from '../redis/index.ts';
import { DockerSandboxRuntime } from '../sandbox/index.ts';
import { Ownership } from './ownership.ts';

/** Short beats, so that a test sees several. */
const BEAT_MS = 50;

describe('Ownership: the heartbeat reports a failed or lapsed beat, on real Redis', () => {
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

  function ownership(client: Redis, id: string) {
    const { log, lines } = capturedLog();
    // The runtime is only used to take over a dead owner's containers, which these tests do not.
    const runtime = new DockerSandboxRuntime(log, '/nonexistent/docker.sock');
    return { owner: new Ownership(client, runtime, id, log, BEAT_MS), lines };
  }

  it('keeps this process alive for the others while it beats, and frees its plugins at stop', async () => {
    const { owner } = ownership(redis, 'orch-alive');
    const { owner: other } = ownership(redis, 'orch-other');
    assert.equal(await other.isAlive('orch-alive'), false);
    await owner.start();
    assert.equal(await other.isAlive('orch-alive'), true);
    assert.equal(await owner.isAlive('orch-alive'), true, 'a process is alive to itself');
    await owner.stop();
    assert.equal(await other.isAlive('orch-alive'), false);
  });

  it('reports a heartbeat that had lapsed (event and error log naming the orchestrator and what follows)', async () => {
    const { owner, lines } = ownership(redis, 'orch-lapsed');
    await owner.start();
    const lapsed = once(owner, 'lapsed');
    // As if the process had stalled past the TTL: the key expired, others may have taken over.
    await redis.del(redisKeys.orchestratorAlive('orch-lapsed'));
    const [event] = (await lapsed) as [{ orchestratorId: string }];
    await owner.stop();
    assert.deepEqual(event, { orchestratorId: 'orch-lapsed' });
    const line = lines.find((l) => l.level === LOG_LEVEL.error && /heartbeat had lapsed/.test(l.msg));
    assert.ok(line, `an error line reports the lapse; got ${JSON.stringify(lines)}`);
    assert.equal(line.orchestratorId, 'orch-lapsed');
    assert.match(line.msg, /may have taken over/);
  });

  it('reports a heartbeat Redis did not take, and a heartbeat it could not remove at stop', async () => {
    const own = new Redis({ path: server.socketPath });
    const { owner, lines } = ownership(own, 'orch-down');
    await owner.start();
    const failed = once(owner, 'beatFailed');
    own.disconnect(); // this process loses Redis
    const [event] = (await failed) as [{ orchestratorId: string; err: unknown }];
    await owner.stop();
    assert.equal(event.orchestratorId, 'orch-down');
    assert.ok(event.err instanceof Error, 'the event carries what Redis answered');
    const beat = lines.find((l) => l.level === LOG_LEVEL.warn && /heartbeat failed/.test(l.msg));
    assert.ok(beat, `a warning reports the failed beat; got ${JSON.stringify(lines)}`);
    assert.equal(beat.orchestratorId, 'orch-down');
    assert.match(beat.msg, /may take over/);
    const removal = lines.find((l) => l.level === LOG_LEVEL.warn && /could not remove the heartbeat/.test(l.msg));
    assert.ok(removal, 'the failed removal at stop is reported, not swallowed');
    await redis.del(redisKeys.orchestratorAlive('orch-down'));
  });
});
