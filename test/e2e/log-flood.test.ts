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
const QUIET_MS = 65_000;
const QUIET_POLL = { intervalMs: 200, maxPolls: 450 };

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

/** A real orchestrator, in this process, whose log the test reads; the flooder its one plugin. */
function flooderOrchestrator() {
  const { records, logger } = capturedLog();
  let orchestrator: Orchestrator | undefined;
  let redisServer: EmbeddedRedis | undefined;
  let redis: Redis | undefined;
  let cleanup: () => void = () => undefined;
  return {
    records,
    outputLines: () =>
      records.filter((r) => r.msg === 'plugin output' && r.pluginId === FLOODER).map((r) => r.plugin?.line ?? ''),
    call: (name: string, payload: unknown) =>
      (orchestrator as Orchestrator)
        .find('tenant-a', FLOODER)
        .callFunction(name, Buffer.from(JSON.stringify(payload)), Date.now() + CALL_DEADLINE_MS),
    /** The reason of its first ERROR: the crash report. */
    crashReport: async () => {
      const store = new PluginStateStore(redis as Redis);
      const history = await pollUntil(
        () => store.history('tenant-a', FLOODER),
        (h) => h.some((entry) => entry.to === 'ERROR'),
        POLL,
      );
      return history.find((entry) => entry.to === 'ERROR')?.reason ?? '';
    },
    start: async () => {
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
    },
    stop: async () => {
      await orchestrator?.stop();
      redis?.disconnect();
      await redisServer?.stop();
      cleanup();
    },
  };
}

const isMarker = (line: string) => /^flooder marker \d+$/.test(line);

describe('a plugin that floods its output', () => {
  const t = flooderOrchestrator();
  before(() => t.start());
  after(() => t.stop());

  it("keeps following after the container's log rotates: later lines reach the orchestrator's log", async () => {
    await t.call('flood', { mb: FLOOD_MB });
    // The first markers may meet the flood's tail in the rate limit; those after it get through.
    const lines = await pollUntil(t.outputLines, (l) => l.some(isMarker), POLL);
    assert.ok(lines.some(isMarker), `no marker after the flood arrived; last: ${lines.at(-1)}`);
  });

  it('reports the lines the rate limit dropped', async () => {
    const reported = () =>
      t.records
        .filter((r) => r.msg === 'plugin output over the rate limit was dropped')
        .reduce((sum, r) => sum + (r.dropped ?? 0), 0);
    // Lines of 100 bytes, at most 200 a second forwarded: nearly all of them were dropped.
    const expected = (FLOOD_MB * 1024 * 1024) / 100 / 2;
    const total = await pollUntil(reported, (n) => n > expected, POLL);
    assert.ok(total > expected, `dropped lines reported: ${total}`);
  });

  it("a crash report's last output holds the last lines", async () => {
    await t.call('crash', {});
    const report = await t.crashReport();
    assert.match(report, /container exited with code 3/);
    assert.match(report, /last output:\n(.*\n)*flooder last words$/);
    assert.match(report, /flooder marker \d+/);
  });
});

describe('a plugin quiet for longer than the engine API idle timeout (60 s)', () => {
  const t = flooderOrchestrator();
  before(() => t.start());
  after(() => t.stop());

  it('its later lines and its crash are still seen', async () => {
    await t.call('flood', { mb: 0, quietMs: QUIET_MS });
    const lines = await pollUntil(t.outputLines, (l) => l.some(isMarker), QUIET_POLL);
    assert.ok(lines.some(isMarker), `no marker after ${QUIET_MS} ms of quiet arrived`);
    await t.call('crash', {});
    const report = await t.crashReport();
    assert.match(report, /container exited with code 3; .*last output:\n(.*\n)*flooder last words$/s);
  });
});
