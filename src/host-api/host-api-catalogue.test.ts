import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { findHostApi, HOST_APIS, parsePayload } from './host-api-catalogue.ts';

function refusal(apiName: string, payload: unknown): string {
  const api = findHostApi(apiName);
  assert.ok(api);
  try {
    parsePayload(apiName, api, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)));
  } catch (err) {
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'INVALID_REQUEST');
    return err.message;
  }
  assert.fail('the payload was accepted');
}

describe('the host API catalogue', () => {
  it('needs a permission for everything but own data and logging', () => {
    const free = Object.entries(HOST_APIS)
      .filter(([, api]) => api.permission === null)
      .map(([name]) => name);
    assert.deepEqual(free.sort(), [
      'delete_plugin_data',
      'get_plugin_data',
      'log_debug',
      'log_error',
      'log_info',
      'log_warning',
      'notify_shared_memory_ready',
      'set_plugin_data',
    ]);
    assert.equal(HOST_APIS.add_course.permission, 'modify:courses');
    assert.equal(HOST_APIS.get_schedule_for_week.permission, 'read:schedules');
  });

  it('knows nothing of inherited object keys', () => {
    assert.equal(findHostApi('constructor'), undefined);
    assert.equal(findHostApi('__proto__'), undefined);
  });

  it('validates payloads as ClassTop does, naming the field', () => {
    const entry = { course_id: 1, day_of_week: 1, start_time: '08:00', end_time: '09:30' };
    assert.match(
      refusal('add_schedule_entry', { ...entry, start_time: '8am' }),
      /payload\.start_time: must be a 24-hour time HH:MM/,
    );
    assert.match(
      refusal('add_schedule_entry', { ...entry, day_of_week: 8 }),
      /payload\.day_of_week: must be 1 \(Monday\) to 7 \(Sunday\)/,
    );
    assert.match(
      refusal('add_schedule_entry', { ...entry, end_time: '07:00' }),
      /payload\.end_time: must be after start_time 08:00/,
    );
    assert.match(refusal('add_course', { name: '  ' }), /payload\.name: must not be empty/);
    assert.match(refusal('add_course', { name: 'x', color: 'red' }), /payload\.color: must be #RRGGBB/);
    assert.match(
      refusal('add_courses_batch', { courses: [{ name: 'ok' }, {}] }),
      /payload\.courses\.1\.name: is required/,
    );
    assert.match(refusal('get_course', '[1'), /get_course: payload is not valid JSON/);
  });

  it('treats an empty payload as {} and fills defaults', () => {
    const api = findHostApi('get_courses');
    assert.ok(api);
    assert.deepEqual(parsePayload('get_courses', api, Buffer.alloc(0)), {});
    const entryApi = findHostApi('add_schedule_entry');
    assert.ok(entryApi);
    const parsed = parsePayload(
      'add_schedule_entry',
      entryApi,
      Buffer.from('{"course_id":1,"day_of_week":7,"start_time":"23:00","end_time":"23:59"}'),
    );
    assert.deepEqual((parsed as { weeks: number[] }).weeks, []);
  });
});
