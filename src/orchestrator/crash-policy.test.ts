import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrashPolicy } from './crash-policy.ts';

const SETTINGS = { restartInitialMs: 100, restartMaxMs: 1_000, crashLoopRestarts: 5, crashLoopWindowMs: 60_000 };

describe('CrashPolicy', () => {
  it('backs off exponentially with jitter in the upper half, capped', () => {
    const low = new CrashPolicy(SETTINGS, () => 0);
    const high = new CrashPolicy(SETTINGS, () => 1);
    const delays = (p: CrashPolicy) => [1, 2, 3, 4].map((i) => p.onFailure(i)).map((d) => (d.restart ? d.delayMs : -1));
    assert.deepEqual(delays(low), [50, 100, 200, 400]);
    assert.deepEqual(delays(high), [100, 200, 400, 800]);
    const capped = new CrashPolicy({ ...SETTINGS, crashLoopRestarts: 10 }, () => 1);
    const last = [1, 2, 3, 4, 5, 6].map((i) => capped.onFailure(i)).at(-1);
    assert.deepEqual(last, { restart: true, crashes: 6, delayMs: 1_000 });
  });

  it('stops at a crash loop, and forgets crashes older than the window', () => {
    const policy = new CrashPolicy(SETTINGS, () => 0);
    for (let i = 0; i < 4; i++) assert.equal(policy.onFailure(i * 1_000).restart, true);
    assert.deepEqual(policy.onFailure(5_000), { restart: false, crashes: 5 });
    const later = policy.onFailure(5_000 + 60_000);
    assert.equal(later.restart, true, 'old crashes left the window');
    assert.equal(later.crashes, 1);
  });
});
