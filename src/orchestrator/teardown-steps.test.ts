import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TeardownSteps } from './teardown-steps.ts';

describe('TeardownSteps', () => {
  it('undoes in reverse order of making, once, however often it is asked', async () => {
    const undone: string[] = [];
    const teardown = new TeardownSteps();
    for (const resource of ['snapshot', 'directories', 'gateway', 'container', 'client']) {
      teardown.defer(async () => {
        undone.push(resource);
      });
    }
    assert.equal(teardown.begun, false);
    const first = teardown.run();
    assert.equal(teardown.begun, true);
    assert.equal(teardown.run(), first, 'a second call gets the same teardown');
    await first;
    assert.deepEqual(undone, ['client', 'container', 'gateway', 'directories', 'snapshot']);
  });

  it('stops at a step that fails and reports its error', async () => {
    const undone: string[] = [];
    const teardown = new TeardownSteps();
    teardown.defer(() => void undone.push('first made'));
    teardown.defer(() => {
      throw new Error('gateway close failed');
    });
    await assert.rejects(teardown.run(), /gateway close failed/);
    assert.deepEqual(undone, []);
  });
});
