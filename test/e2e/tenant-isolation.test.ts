import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, ServerCredentials, status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import { loadProtocol, type HostCall } from '../../src/protocol/index.ts';
import { after, before, describe, it } from 'node:test';
import { redisKeys } from '../../src/redis/index.ts';
import { TestGatewayClient } from '../helpers/gateway-client.ts';
import { pollUntil } from '../helpers/poll.ts';
import {
  EXAMPLES,
  exampleTrust,
  FIXTURES,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../helpers/test-orchestrator.ts';

const HELLO = 'com.example.hello-world';
const POLL_MS = 50;
const MAX_POLLS = 100;
const SLOW_DEADLINE_CAP_MS = 3_000;

describe('tenants are kept apart: a plugin of tenant A cannot read, write or learn of tenant B', () => {
  let t: TestOrchestrator;
  let a: TestGatewayClient;
  let b: TestGatewayClient;
  let tokenA: string;
  let tokenB: string;
  let secretCourseId: number;

  before(async () => {
    // The same plugin id in both tenants: only the socket tells them apart.
    t = await startTestOrchestrator([
      { id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] },
      { id: 'school-b', plugins: [path.join(EXAMPLES, 'hello-world')] },
    ]);
    a = new TestGatewayClient(t.gatewaySocket('school-a', HELLO));
    b = new TestGatewayClient(t.gatewaySocket('school-b', HELLO));
    tokenA = (await a.register(HELLO, '1.0.0', ['read:courses', 'modify:courses', 'emit:events'])).token;
    tokenB = (await b.register(HELLO, '1.0.0', ['read:courses', 'modify:courses', 'emit:events'])).token;
    secretCourseId = (await b.callApi('add_course', { name: 'B secret' }, tokenB)).result as number;
    await b.callApi('set_plugin_data', { key: 'secret', value: 'only for b' }, tokenB);
  });

  after(async () => {
    a?.close();
    b?.close();
    await t?.stop();
  });

  it('host data: courses and course ids are per tenant', async () => {
    const courses = (await a.callApi('get_courses', {}, tokenA)).result as Array<{ name: string }>;
    assert.ok(!courses.some((c) => c.name === 'B secret'));
    const byId = await a.callApi('get_course', { course_id: secretCourseId }, tokenA);
    assert.equal(byId.code, 'NOT_FOUND', "B's course id means nothing in A");
    assert.equal((await a.callApi('delete_course', { course_id: secretCourseId }, tokenA)).code, 'NOT_FOUND');
    assert.equal(
      ((await b.callApi('get_course', { course_id: secretCourseId }, tokenB)).result as { name: string }).name,
      'B secret',
    );
  });

  it('plugin data keys are per tenant, even for the same plugin id and key', async () => {
    assert.equal((await a.callApi('get_plugin_data', { key: 'secret' }, tokenA)).result, null);
    for (const key of [
      '{school-b}:secret',
      '../school-b/secret',
      'classtop:{school-b}:plugin-data:com.example.hello-world',
    ]) {
      assert.equal((await a.callApi('get_plugin_data', { key }, tokenA)).result, null, key);
    }
    assert.equal((await b.callApi('get_plugin_data', { key: 'secret' }, tokenB)).result, 'only for b');
  });

  it('a tenant or plugin named in a payload is refused, not obeyed', async () => {
    for (const [api, payload] of [
      ['get_courses', { tenant: 'school-b' }],
      ['add_course', { name: 'x', tenant: 'school-b' }],
      ['get_plugin_data', { key: 'secret', plugin_id: HELLO, tenant: 'school-b' }],
      ['emit_event', { event_name: 'x', data: {}, source_plugin_id: 'system' }],
    ] as const) {
      const result = await a.callApi(api, payload, tokenA);
      assert.equal(result.code, 'INVALID_REQUEST', api);
      assert.match(result.message, /unknown field\(s\)/);
    }
  });

  it("event names cannot reach another tenant's channel, and B's events never reach A", async () => {
    for (const event_name of ['x}:events', 'classtop:{school-b}:events', '../b', 'A']) {
      assert.equal(
        (await a.callApi('emit_event', { event_name, data: {} }, tokenA)).code,
        'INVALID_REQUEST',
        event_name,
      );
    }
    const seen = a.subscribe(tokenA, true);
    const mine = `${HELLO}/a_marker`;
    for (let i = 0; i < MAX_POLLS && !seen.names.includes(mine); i++) {
      await b.callApi('emit_event', { event_name: 'b_marker', data: {} }, tokenB);
      await a.callApi('emit_event', { event_name: 'a_marker', data: {} }, tokenA);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    seen.close();
    assert.ok(seen.names.includes(mine));
    assert.ok(!seen.names.some((name) => name.includes('b_marker')), "B's events are not delivered to A");
  });

  it("an event outside its source's namespace is not delivered, even from the host's own bus", async () => {
    const seen = a.subscribe(tokenA, true);
    const forged = (name: string, source: string) =>
      JSON.stringify({ event_name: name, event_data: '{}', timestamp: Date.now(), source_plugin_id: source });
    const marker = `${HELLO}/forgery_marker`;
    for (let i = 0; i < MAX_POLLS && !seen.names.includes(marker); i++) {
      const channel = redisKeys.events('school-a');
      await t.redis.publish(channel, forged('course_update', 'com.evil.plugin'));
      await t.redis.publish(channel, forged('com.example.other/forged', HELLO));
      await t.redis.publish(channel, forged(marker, HELLO));
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    seen.close();
    assert.ok(seen.names.includes(marker), 'a well-namespaced event arrives');
    assert.deepEqual(
      seen.names.filter((name) => name !== marker),
      [],
      "neither a plugin's event under a system name nor one under another plugin's namespace",
    );
  });
});

describe('an upstream host that is down', () => {
  it('ends the call with INTERNAL_ERROR rather than hanging, and names the call', async () => {
    const t = await startTestOrchestrator(
      [{ id: 'school-a', trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'probe')] }],
      { config: { upstream: { address: 'unix:///nonexistent/classtop-host.sock', timeoutMs: 2_000 } } },
    );
    const client = new TestGatewayClient(t.gatewaySocket('school-a', 'com.test.probe'));
    try {
      const token = (await client.register('com.test.probe', '0.1.0', [], Buffer.alloc(0))).token;
      const result = await client.callApi('get_courses', {}, token);
      assert.equal(result.code, 'INTERNAL_ERROR');
      assert.match(result.message, /^INTERNAL_ERROR: get_courses: /);
    } finally {
      client.close();
      await t.stop();
    }
  });
});

describe('a slow upstream host', () => {
  /** An operator's host that never answers a call, and notes each call the gateway withdraws. */
  const held: Array<{ id: number; api: string; cancelled: boolean }> = [];
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-slow-upstream-'));
  const upstream = new Server();
  let t: TestOrchestrator;
  let client: TestGatewayClient;
  let token: string;

  before(async () => {
    upstream.addService(loadProtocol().HostService.service, {
      Calls: (stream: ServerDuplexStream<HostCall, unknown>) => {
        stream.on('data', ({ id, request, cancel }: HostCall) => {
          if (!cancel) held.push({ id, api: request?.api_name ?? '', cancelled: false });
          const entry = held.find((h) => h.id === id);
          if (cancel && entry) entry.cancelled = true;
        });
      },
      Invoke: () => {},
      WatchEvents: () => {},
    });
    const address = `unix://${path.join(scratch, 'host.sock')}`;
    await new Promise((resolve, reject) =>
      upstream.bindAsync(address, ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    t = await startTestOrchestrator([
      {
        id: 'school-a',
        trust: exampleTrust({ allowUnsigned: true }),
        upstream: { address },
        callLimits: { maxDeadlineMs: SLOW_DEADLINE_CAP_MS },
        plugins: [path.join(FIXTURES, 'probe')],
      },
    ]);
    client = new TestGatewayClient(t.gatewaySocket('school-a', 'com.test.probe'));
    token = (await client.register('com.test.probe', '0.1.0', [], Buffer.alloc(0))).token;
  });

  after(async () => {
    client?.close();
    await t?.stop();
    upstream.forceShutdown();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a plugin cancelling its call withdraws it from the upstream host', async () => {
    const call = client.startCall('log_info', { message: 'cancel me' }, token);
    const entry = await pollUntil(
      () => held.find((h) => h.api === 'log_info'),
      (found) => found !== undefined,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.ok(entry, 'the call reached the upstream host');
    call.cancel();
    assert.equal((await call.outcome).grpcStatus, GrpcStatus.CANCELLED);
    // Well before the deadline cap, which would end the upstream call anyway.
    const cancelled = await pollUntil(
      () => entry?.cancelled,
      (done) => done === true,
      { intervalMs: POLL_MS, maxPolls: SLOW_DEADLINE_CAP_MS / POLL_MS / 4 },
    );
    assert.equal(cancelled, true, 'the gateway told the host to drop the call');
  });

  it("a call the host does not answer ends with TIMEOUT at the tenant's deadline cap, not the plugin's", async () => {
    const started = Date.now();
    const result = await client.startCall('get_plugin_data', { key: 'k' }, token, 60_000).outcome;
    assert.equal(result.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 30_000, "well before the plugin's own 60 s deadline");
    const entry = held.find((h) => h.api === 'get_plugin_data');
    const cancelled = await pollUntil(
      () => entry?.cancelled,
      (done) => done === true,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(cancelled, true, 'the gateway told the host to drop the call');
  });
});
