import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTenantQuota } from './tenant-quota.ts';

const QUOTA = { plugins: 3, memoryMb: 512, cpus: 1 };

describe('checkTenantQuota', () => {
  it('allows up to the quota', () => {
    checkTenantQuota('t', 'p', QUOTA, [{ memoryMb: 256, cpus: 0.5 }], { memoryMb: 256, cpus: 0.5 });
  });

  it('refuses beyond any one of plugins, memory and CPU, naming quota, use and need', () => {
    const full = [
      { memoryMb: 128, cpus: 0.25 },
      { memoryMb: 128, cpus: 0.25 },
      { memoryMb: 128, cpus: 0.25 },
    ];
    assert.throws(
      () => checkTenantQuota('t', 'p', QUOTA, full, { memoryMb: 1, cpus: 0.1 }),
      /quota plugins is 3; in use 3, p needs 1 more/,
    );
    assert.throws(
      () => checkTenantQuota('t', 'p', QUOTA, [{ memoryMb: 400, cpus: 0.1 }], { memoryMb: 128, cpus: 0.1 }),
      /quota memoryMb is 512; in use 400, p needs 128 more/,
    );
    assert.throws(
      () => checkTenantQuota('t', 'p', QUOTA, [{ memoryMb: 1, cpus: 0.75 }], { memoryMb: 1, cpus: 0.5 }),
      /quota cpus is 1; in use 0.75, p needs 0.5 more/,
    );
  });
});
