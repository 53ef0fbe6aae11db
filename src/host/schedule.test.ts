import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentWeek } from './schedule.ts';

describe('currentWeek', () => {
  const monday = new Date('2026-09-07T10:00:00Z');

  it('counts weeks from semester_start_date, week 1 being the first', () => {
    assert.equal(currentWeek({ semester_start_date: '2026-09-07' }, monday), 1);
    assert.equal(currentWeek({ semester_start_date: '2026-09-01' }, monday), 1);
    assert.equal(currentWeek({ semester_start_date: '2026-08-31' }, monday), 2);
    assert.equal(currentWeek({ semester_start_date: '2026-10-01' }, monday), 1, 'never below 1');
  });

  it('falls back to current_week, then 1', () => {
    assert.equal(currentWeek({ semester_start_date: '', current_week: '5' }, monday), 5);
    assert.equal(currentWeek({ current_week: 'x' }, monday), 1);
    assert.equal(currentWeek({}, monday), 1);
  });
});
