import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import { PluginStateStore } from '../../src/lifecycle/index.ts';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { EmbeddedRedis } from '../../src/redis/index.ts';
import { exampleTrust, FIXTURES, writeTestConfig } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const FLOODER = 'com.test.flooder';
/** Far past the container's log size below: the json-file log rotates about a hundred times. */
const FLOOD_MB = 8;
const LOG_MAX_BYTES = 64 * 1024;
const POLL = { intervalMs: 100, maxPolls: 600 };
const CALL_DEADLINE_MS = 60_000;

interface LogRecord {
  msg: string;
  pluginId?: string;
  plugin?: { line: string };
  dropped?: number;
}

/** The orchestrator's log, as JSON records, kept in memory for the test to read. */
function capturedLog(): { records: LogRecord[]; logger: pino.Logger } {
  const records: LogRecord[] = [];
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { records, logger: pino({ level: 'info' }, sink) };
}

describe('a plugin that floods its output', () => {
  const { records, logger } = capturedLog();
  let orchestrator: Orchestrator;
  let redisServer: EmbeddedRedis;
  let redis: Redis;
  let cleanup: () => void = () => undefined;
  const call = (name: string, payload: unknown) =>
    orchestrator
      .find('tenant-a', FLOODER)
      .callFunction(name, Buffer.from(JSON.stringify(payload)), Date.now() + CALL_DEADLINE_MS);
  const outputLines = () =>
    records.filter((r) => r.msg === 'plugin output' && r.pluginId === FLOODER).map((r) => r.plugin?.line);

  before(async () => {
    const { file, root } = writeTestConfig(
      [{ id: 'tenant-a', trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'flooder')] }],
      // No restart while the test reads the crash report.
      { limits: { logMaxBytes: LOG_MAX_BYTES }, supervision: { restartInitialMs: 600_000, restartMaxMs: 600_000 } },
    );
    const config = loadConfig(file, {});
    cleanup = () => {
      rmSync(root, { recursive: true, force: true });
      rmSync(config.shmDir, { recursive: true, force: true });
    };
    redisServer = await EmbeddedRedis.start();
    redis = new Redis({ path: redisServer.socketPath });
    orchestrator = new Orchestrator(config, logger);
    await orchestrator.start(redisServer.url);
  });

  after(async () => {
    await orchestrator?.stop();
    redis?.disconnect();
    await redisServer?.stop();
    cleanup();
  });

  it("keeps following after the container's log rotates: later lines reach the orchestrator's log", async () => {
    await call('flood', { mb: FLOOD_MB });
    const lines = await pollUntil(outputLines, (l) => l.includes('flooder marker 3'), POLL);
    assert.ok(lines.includes('flooder marker 3'), `the marker after the flood never arrived; last: ${lines.at(-1)}`);
  });

  it('reports the lines the rate limit dropped', async () => {
    const reported = () =>
      records
        .filter((r) => r.msg === 'plugin output over the rate limit was dropped')
        .reduce((sum, r) => sum + (r.dropped ?? 0), 0);
    // Lines of 100 bytes, at most 200 a second forwarded: nearly all of them were dropped.
    const expected = (FLOOD_MB * 1024 * 1024) / 100 / 2;
    const total = await pollUntil(reported, (n) => n > expected, POLL);
    assert.ok(total > expected, `dropped lines reported: ${total}`);
  });

  it("a crash report's last output holds the last lines", async () => {
    await call('crash', {});
    const history = await pollUntil(
      () => new PluginStateStore(redis).history('tenant-a', FLOODER),
      (h) => h.some((entry) => entry.to === 'ERROR'),
      POLL,
    );
    const failure = history.find((entry) => entry.to === 'ERROR')?.reason ?? '';
    assert.match(failure, /container exited with code 3/);
    assert.match(failure, /last output:\n(.*\n)*flooder last words$/);
    assert.match(failure, /flooder marker \d+/);
  });
});
