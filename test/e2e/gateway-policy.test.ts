import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PROTOCOL_VERSION } from '../../src/protocol/index.ts';
import { redisKeys } from '../../src/redis/index.ts';
import { TestGatewayClient } from '../helpers/gateway-client.ts';
import { EXAMPLE_TRUST, EXAMPLES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const HELLO = 'com.example.hello-world';
const PEEK = 'com.example.course-peek';

describe('the policy gateway, over the real unix sockets of running plugins', () => {
  let t: TestOrchestrator;
  let hello: TestGatewayClient;
  let peek: TestGatewayClient;
  let otherTenant: TestGatewayClient;
  let helloToken: string;
  let peekToken: string;

  before(async () => {
    t = await startTestOrchestrator([
      { id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world'), path.join(EXAMPLES, 'course-peek')] },
      { id: 'school-b', plugins: [path.join(EXAMPLES, 'hello-world')] },
    ]);
    hello = new TestGatewayClient(t.gatewaySocket('school-a', HELLO));
    peek = new TestGatewayClient(t.gatewaySocket('school-a', PEEK));
    otherTenant = new TestGatewayClient(t.gatewaySocket('school-b', HELLO));
    helloToken = (await hello.register(HELLO, '1.0.0', ['read:courses'])).token;
    peekToken = (await peek.register(PEEK, '1.0.0', ['read:courses'])).token;
    assert.ok(helloToken && peekToken);
  });

  after(async () => {
    for (const client of [hello, peek, otherTenant]) client?.close();
    await t?.stop();
  });

  it('a valid token on its own socket is served', async () => {
    const result = await hello.callApi('get_courses', {}, helloToken);
    assert.equal(result.code, 'OK');
    assert.deepEqual(
      (result.result as Array<{ name: string }>).map((c) => c.name),
      ['Hello World 101'],
    );
  });

  it('a missing token gets AUTHENTICATION_FAILED', async () => {
    const result = await hello.callApi('get_courses', {}, undefined);
    assert.equal(result.code, 'AUTHENTICATION_FAILED');
    assert.equal(result.grpcStatus, GrpcStatus.OK, 'a refusal is a response, as the specification decodes it');
    assert.match(result.message, /^AUTHENTICATION_FAILED: .*no session token/);
  });

  it('a CallStream carries many calls, each admitted as a CallApi is and answered by its id', async () => {
    const stream = hello.callStream(helloToken);
    after(() => stream.close());
    const [courses, denied, unknown, forged, invalid] = await Promise.all([
      stream.call('get_courses', {}),
      stream.call('get_setting', { key: 'theme_mode' }),
      stream.call('no_such_api', {}),
      stream.call('get_courses', {}, 'garbage'),
      stream.call('get_course', { course_id: 'one' }),
    ]);
    assert.equal(courses.code, 'OK');
    assert.deepEqual(
      (courses.result as Array<{ name: string }>).map((c) => c.name),
      ['Hello World 101'],
    );
    assert.equal(denied.code, 'PERMISSION_DENIED');
    assert.match(denied.message, /needs permission 'access:settings'/);
    assert.equal(unknown.code, 'NOT_FOUND');
    assert.equal(forged.code, 'AUTHENTICATION_FAILED');
    assert.equal(invalid.code, 'INVALID_REQUEST');
    assert.match(invalid.message, /payload\.course_id/);
    assert.equal((await stream.call('get_courses', {})).code, 'OK', 'the stream goes on after failures');
  });

  it('a CallStream needs a valid token, and a plugin holds at most two at once', async () => {
    assert.equal((await hello.callStream(undefined).ended).code, 'AUTHENTICATION_FAILED');
    assert.equal((await hello.callStream(peekToken).ended).code, 'AUTHENTICATION_FAILED');
    // The plugin's own SDK may hold one already: open more until one is refused (bounded).
    const streams: Array<ReturnType<TestGatewayClient['callStream']>> = [];
    after(() => streams.forEach((stream) => stream.close()));
    let refused;
    for (let i = 0; i < 3 && !refused; i++) {
      const stream = hello.callStream(helloToken);
      streams.push(stream);
      const first = await Promise.race([stream.call('get_courses', {}), stream.ended]);
      if (first.code !== 'OK') refused = first;
    }
    assert.equal(refused?.code, 'RATE_LIMIT_EXCEEDED');
    assert.match(refused?.message ?? '', /already has 2 call streams open, the maximum/);
    for (const stream of streams.splice(0)) stream.close();
    // Once closed, they are counted out: a new one is served.
    let served = false;
    for (let i = 0; i < 50 && !served; i++) {
      const stream = hello.callStream(helloToken);
      served = (await Promise.race([stream.call('get_courses', {}), stream.ended])).code === 'OK';
      stream.close();
      if (!served) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(served);
  });

  it('a forged token gets AUTHENTICATION_FAILED', async () => {
    const [version, body] = helloToken.split('.');
    const forgedMac = `${version}.${body}.${Buffer.alloc(32, 7).toString('base64url')}`;
    const claims = Buffer.from(JSON.stringify({ t: 'school-a', p: HELLO, i: 'x', e: Date.now() + 60_000 })).toString(
      'base64url',
    );
    for (const token of [forgedMac, `ct1.${claims}.${helloToken.split('.')[2]}`, 'garbage']) {
      const result = await hello.callApi('get_courses', {}, token);
      assert.equal(result.code, 'AUTHENTICATION_FAILED', token);
    }
  });

  it("a token from another plugin's or tenant's socket is refused", async () => {
    const fromOtherTenant = (await otherTenant.register(HELLO, '1.0.0')).token;
    assert.equal((await hello.callApi('get_courses', {}, fromOtherTenant)).code, 'AUTHENTICATION_FAILED');
    assert.equal((await hello.callApi('get_courses', {}, peekToken)).code, 'AUTHENTICATION_FAILED');
    assert.match((await peek.callApi('get_courses', {}, helloToken)).message, /another plugin instance/);
  });

  it('Register must name the plugin the socket belongs to, and ask for no more than it declared', async () => {
    const wrongId = await hello.register(PEEK, '1.0.0');
    assert.equal(wrongId.code, 'AUTHENTICATION_FAILED');
    assert.match(wrongId.message, /belongs to com\.example\.hello-world@1\.0\.0/);
    const wrongVersion = await hello.register(HELLO, '9.9.9');
    assert.equal(wrongVersion.code, 'AUTHENTICATION_FAILED');
    const greedy = await peek.register(PEEK, '1.0.0', ['read:courses', 'modify:courses']);
    assert.equal(greedy.code, 'PERMISSION_DENIED');
    assert.match(greedy.message, /modify:courses/);
  });

  it('Register must present the certificate the bundle was verified with', async () => {
    const none = await hello.register(HELLO, '1.0.0', [], Buffer.alloc(0));
    assert.equal(none.code, 'AUTHENTICATION_FAILED');
    assert.match(
      none.message,
      /the certificate presented \(\(none\)\) is not the one com\.example\.hello-world was verified with \(sha256:/,
    );
    const rootInstead = await hello.register(HELLO, '1.0.0', [], readFileSync(path.join(EXAMPLE_TRUST, 'ca/root.pem')));
    assert.equal(rootInstead.code, 'AUTHENTICATION_FAILED');
  });

  it("Register refuses an SDK of an older protocol major, and accepts the gateway's own or none", async () => {
    const register = (sdkVersion: string) => hello.register(HELLO, '1.0.0', [], undefined, {}, sdkVersion);
    const tooOld = await register('0.9');
    assert.equal(tooOld.code, 'INVALID_REQUEST');
    assert.equal(
      tooOld.message,
      `INVALID_REQUEST: Register: SDK protocol version 0.9 is older than the gateway's minimum ${PROTOCOL_VERSION.split('.')[0]}.0; rebuild the plugin with a newer SDK`,
    );
    assert.equal(tooOld.token, '');
    for (const accepted of [PROTOCOL_VERSION, '']) assert.equal((await register(accepted)).code, 'OK', accepted);
  });

  it('a call without the permission gets PERMISSION_DENIED and nothing reaches the host', async () => {
    const before = await t.redis.hgetall(redisKeys.courses('school-a'));
    const seqBefore = await t.redis.get(redisKeys.courseSeq('school-a'));
    const result = await peek.callApi('add_course', { name: 'Forbidden' }, peekToken);
    assert.equal(result.code, 'PERMISSION_DENIED');
    assert.equal(result.grpcStatus, GrpcStatus.OK, 'a refusal is a response, as the specification decodes it');
    assert.match(result.message, /^PERMISSION_DENIED: add_course needs permission 'modify:courses'/);
    assert.deepEqual(await t.redis.hgetall(redisKeys.courses('school-a')), before);
    assert.equal(await t.redis.get(redisKeys.courseSeq('school-a')), seqBefore, 'the host never saw the call');
  });

  it('an unknown api_name gets NOT_FOUND', async () => {
    const result = await hello.callApi('format_hard_disk', {}, helloToken);
    assert.equal(result.code, 'NOT_FOUND');
    assert.match(result.message, /unknown host API 'format_hard_disk'/);
  });

  it('a payload that is not JSON, or misses or mistypes a field, gets INVALID_REQUEST naming it', async () => {
    const notJson = await hello.callApi('get_course', '{not json', helloToken);
    assert.equal(notJson.code, 'INVALID_REQUEST');
    assert.match(notJson.message, /not valid JSON/);
    const missing = await hello.callApi('get_course', {}, helloToken);
    assert.equal(missing.code, 'INVALID_REQUEST');
    assert.match(missing.message, /payload\.course_id: is required/);
    const unknownField = await hello.callApi('add_course', { name: 'x', room: 'y' }, helloToken);
    assert.match(unknownField.message, /payload: unknown field\(s\) room/);
  });

  it('host-side validation errors come back with their code', async () => {
    const token = (await hello.register(HELLO, '1.0.0', ['read:courses', 'modify:courses'])).token;
    const missingCourse = await hello.callApi('get_course', { course_id: 999 }, token);
    assert.equal(missingCourse.code, 'NOT_FOUND');
    assert.match(missingCourse.message, /course 999 does not exist/);
    const systemEvent = await hello.callApi('emit_event', { event_name: 'course_update', data: {} }, token);
    assert.equal(systemEvent.code, 'PERMISSION_DENIED');
  });

  it('SubscribeEvents needs a valid token; Lifecycle is not served by the gateway', async () => {
    const noToken = await hello.subscribeOnce(undefined);
    assert.equal(noToken.code, 'AUTHENTICATION_FAILED');
    const lifecycle = await hello.lifecycle();
    assert.equal(lifecycle.grpcStatus, GrpcStatus.UNIMPLEMENTED);
  });

  it("a subscriber receives the events its tenant's plugins emit", async () => {
    let done = false;
    const received = hello.subscribeOnce(helloToken).finally(() => (done = true));
    // The subscription reaches the host asynchronously: emit until it arrives (bounded).
    for (let attempt = 0; attempt < 100 && !done; attempt++) {
      await hello.callApi('emit_event', { event_name: 'test_ping', data: { attempt } }, helloToken);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await received;
    assert.equal(result.code, 'OK');
    assert.equal(result.result, `${HELLO}/test_ping`, 'namespaced by its source');
  });
});
