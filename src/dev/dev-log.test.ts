import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecord } from './dev-log.ts';

const AT = new Date(2026, 0, 2, 9, 5, 7, 42).getTime();
const record = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: AT, pid: 1, ...fields });

describe('the readable log of a dev session', () => {
  it("shows the plugin's log calls and output as time, level, message", () => {
    assert.equal(
      formatRecord(record({ level: 40, msg: 'plugin log', plugin: { message: 'low on coffee' } })),
      '09:05:07.042 WARN  low on coffee',
    );
    assert.equal(
      formatRecord(record({ msg: 'plugin output', stream: 'stderr', plugin: { line: 'Traceback' } })),
      '09:05:07.042 INFO  [stderr] Traceback',
    );
  });

  it("shows the orchestrator's state changes and problems, not its routine records", () => {
    assert.equal(
      formatRecord(record({ msg: 'state changed', to: 'ENABLED', reason: 'reloaded 1 → 2' })),
      '09:05:07.042 INFO  [sandbox] ENABLED: reloaded 1 → 2',
    );
    assert.equal(formatRecord(record({ msg: 'admin API listening' })), undefined);
    assert.equal(
      formatRecord(record({ level: 50, msg: 'disable failed', err: { message: 'gone\nfor good' } })),
      '09:05:07.042 ERROR [sandbox] disable failed: gone\n                   for good',
      'a second line is indented under the first',
    );
  });
});
