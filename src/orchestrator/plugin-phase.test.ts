import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  holdsQuota,
  IDLE,
  paused,
  resumed,
  runningInstance,
  serving,
  servingInstance,
  STARTING,
  type PluginPhase,
} from './plugin-phase.ts';

const OLD = { name: 'old' };
const NEXT = { name: 'next' };

describe('PluginPhase', () => {
  it('counts a starting, serving or paused plugin against the quota, an idle one not', () => {
    const phases: Array<PluginPhase<typeof OLD>> = [IDLE, STARTING, serving(OLD), paused(serving(OLD))];
    assert.deepEqual(phases.map(holdsQuota), [false, true, true, true]);
  });

  it('runs an instance here while serving or paused, and serves calls only while serving', () => {
    assert.equal(runningInstance(IDLE), undefined);
    assert.equal(runningInstance(STARTING), undefined);
    assert.equal(runningInstance(serving(OLD)), OLD);
    assert.equal(runningInstance(paused(serving(OLD))), OLD);
    assert.equal(servingInstance(serving(OLD)), OLD);
    assert.equal(servingInstance(paused(serving(OLD))), undefined);
    assert.equal(servingInstance(STARTING), undefined);
  });

  it('pauses only a serving plugin, keeping its instance', () => {
    assert.deepEqual(paused(serving(OLD)), { kind: 'paused', instance: OLD });
    assert.equal(paused(IDLE), IDLE);
    assert.equal(paused(STARTING), STARTING);
    const already = paused(serving(OLD));
    assert.equal(paused(already), already);
  });

  it('resumes the paused instance, but never one that was removed or replaced meanwhile', () => {
    const handingOver = paused(serving(OLD));
    assert.deepEqual(resumed(handingOver, OLD), serving(OLD));
    assert.equal(resumed(handingOver, NEXT), handingOver, 'another instance is not the paused one');
    assert.equal(resumed(IDLE, OLD), IDLE, 'the old instance crashed and was removed');
    const replaced = serving(NEXT);
    assert.equal(resumed(replaced, OLD), replaced);
  });
});
