import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pollUntil } from '../../test/helpers/poll.ts';
import { createAuditLog, type AuditRecord } from './audit-log.ts';

const RECORD: AuditRecord = {
  tenant: 'school-a',
  pluginId: 'com.example.p',
  instanceId: 'i1',
  api: 'get_courses',
  decision: 'allowed',
  code: 'OK',
  latencyMs: 0.2,
};

describe('the audit log', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-audit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (file: string) =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      : [];

  it('writes a batch of records on its own within a couple of seconds, one JSON line each', async () => {
    const file = path.join(dir, 'batched.log');
    const audit = createAuditLog(file);
    audit.record(RECORD);
    audit.record({ ...RECORD, decision: 'denied', code: 'PERMISSION_DENIED', reason: 'no permission' });
    const written = await pollUntil(
      () => lines(file),
      (all) => all.length === 2,
      { intervalMs: 50, maxPolls: 60 },
    );
    audit.close();
    assert.deepEqual(
      written.map((l) => [l.stream, l.tenant, l.api, l.decision, l.code]),
      [
        ['audit', 'school-a', 'get_courses', 'allowed', 'OK'],
        ['audit', 'school-a', 'get_courses', 'denied', 'PERMISSION_DENIED'],
      ],
    );
  });

  it('writes what it holds when closed, and never a token or a payload', async () => {
    const file = path.join(dir, 'closed.log');
    const audit = createAuditLog(file);
    audit.record({ ...RECORD, token: 'ct1.secret', payload: 'private' } as AuditRecord);
    audit.close();
    const written = await pollUntil(
      () => lines(file),
      (all) => all.length === 1,
      { intervalMs: 10, maxPolls: 50 },
    );
    assert.equal(written.length, 1);
    assert.equal(written[0]?.api, 'get_courses');
    assert.ok(!readFileSync(file, 'utf8').includes('secret') && !readFileSync(file, 'utf8').includes('private'));
  });
});
