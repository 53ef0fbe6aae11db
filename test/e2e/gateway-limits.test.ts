import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redisKeys } from '../../src/redis/index.ts';
import { TestGatewayClient } from '../helpers/gateway-client.ts';
import { EXAMPLES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';
import { pollUntil } from '../helpers/poll.ts';

const HELLO = 'com.example.hello-world';
const PEEK = 'com.example.course-peek';
const LIMITS = {
  callsPerSecond: 20,
  burst: 10,
  maxConcurrentCalls: 8,
  maxStreams: 3,
  maxMessageBytes: 64 * 1024,
  minPingIntervalMs: 300,
};
const FLOOD = 100;
const EVENTS = 400;
const POLL_MS = 50;
const MAX_POLLS = 200;

describe('gateway limits: every call has a limit, and a neighbour keeps being served', () => {
  let t: TestOrchestrator;
  let hello: TestGatewayClient;
  let peek: TestGatewayClient;
  let helloToken: string;
  let peekToken: string;

  before(async () => {
    t = await startTestOrchestrator(
      [
        {
          id: 'school-a',
          callLimits: LIMITS,
          plugins: [path.join(EXAMPLES, 'hello-world'), path.join(EXAMPLES, 'course-peek')],
        },
        {
          id: 'school-b',
          quota: { plugins: 1 },
          plugins: [path.join(EXAMPLES, 'hello-world'), path.join(EXAMPLES, 'course-peek')],
        },
      ],
      {},
    );
    hello = new TestGatewayClient(t.gatewaySocket('school-a', HELLO));
    peek = new TestGatewayClient(t.gatewaySocket('school-a', PEEK));
    helloToken = (await hello.register(HELLO, '1.0.0')).token;
    peekToken = (await peek.register(PEEK, '1.0.0')).token;
  });

  after(async () => {
    hello?.close();
    peek?.close();
    await t?.stop();
  });

  it('a flood of calls is rate-limited, and the neighbour plugin is still served', async () => {
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: FLOOD }, () => hello.callApi('get_courses', {}, helloToken)),
    );
    // The bucket can have served no more than its burst plus what it refilled while the flood
    // lasted (longer on a loaded machine): a bound from the limit itself, not from a clock budget.
    const refilled = Math.ceil((LIMITS.callsPerSecond * (performance.now() - started)) / 1_000);
    const limited = results.filter((r) => r.code === 'RATE_LIMIT_EXCEEDED');
    const served = results.filter((r) => r.code === 'OK');
    assert.equal(limited.length + served.length, FLOOD, 'each call was served or refused as over the limit');
    assert.ok(
      served.length >= 1 && served.length <= LIMITS.burst + refilled,
      `${served.length} served, at most the burst ${LIMITS.burst} + ${refilled} refilled`,
    );
    assert.ok(
      limited.some((r) => /over its rate limit of 20 calls\/s \(burst 10\)/.test(r.message)),
      'the rate limit refused some (calls arriving together may meet the cap on calls in progress first)',
    );
    const neighbour = await Promise.all(Array.from({ length: 5 }, () => peek.callApi('get_courses', {}, peekToken)));
    assert.deepEqual(
      neighbour.map((r) => r.code),
      Array(5).fill('OK'),
    );
  });

  it('calls on a CallStream share the same rate limit, and the stream goes on', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the bucket refills
    const stream = hello.callStream(helloToken);
    const results = await Promise.all(Array.from({ length: FLOOD }, () => stream.call('get_courses', {})));
    const limited = results.filter((r) => r.code === 'RATE_LIMIT_EXCEEDED');
    assert.ok(limited.length >= FLOOD - LIMITS.burst - 5, `most of the flood was refused (${limited.length})`);
    // Calls on one stream arrive together: past the burst, the cap on calls in progress may refuse some first.
    assert.ok(
      limited.some((r) => /over its rate limit of 20 calls\/s/.test(r.message)),
      limited.map((r) => r.message).join('\n'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await stream.call('get_courses', {})).code, 'OK', 'the same stream serves the next call');
    stream.close();
  });

  it('an oversized message is refused, and the next call works', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the bucket refills
    const big = await peek.callApi('log_info', { message: 'x'.repeat(100 * 1024) }, peekToken);
    assert.equal(big.code, 'INVALID_REQUEST');
    assert.match(big.message, /payload of \d+ bytes exceeds the maximum of 65536/);
    const huge = await peek.callApi('log_info', { message: 'x'.repeat(512 * 1024) }, peekToken);
    assert.notEqual(huge.code, 'OK', 'past the transport limit too');
    assert.equal((await peek.callApi('get_courses', {}, peekToken)).code, 'OK');
  });

  it('streams are capped; a subscriber that never acknowledges does not stall another', async () => {
    // course-peek itself already holds one stream (it subscribes in onEnable): two more fit.
    const slow = peek.subscribe(peekToken, false);
    const fast = peek.subscribe(peekToken, true);
    const third = peek.subscribe(peekToken, true);
    const refused = await third.ended;
    assert.equal(refused.code, 'RATE_LIMIT_EXCEEDED');
    assert.match(refused.message, /already has 3 event streams open, the maximum/);
    // The streams reach the host asynchronously: wait until a first event gets through (bounded).
    for (let i = 0; i < MAX_POLLS && fast.names.length === 0; i++) {
      await hello.callApi('emit_event', { event_name: 'warmup', data: {} }, helloToken);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const before = fast.names.length;
    for (let i = 0; i < EVENTS; i++)
      await t.redis.publish(
        redisKeys.events('school-a'),
        JSON.stringify({
          event_name: `com.example.other/e${i}`,
          event_data: '{}',
          timestamp: Date.now(),
          source_plugin_id: 'com.example.other',
        }),
      );
    await pollUntil(
      () => fast.names.length,
      (n) => n >= before + EVENTS,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.equal(fast.names.length - before, EVENTS, 'the acknowledging subscriber got every event');
    assert.ok(slow.names.length <= 64, `the slow one got at most its window (${slow.names.length})`);
    const metrics = await (await fetch(`${t.adminUrl}/metrics`)).text();
    const dropped =
      /classtop_gateway_events_dropped_total\{tenant="school-a",plugin="com.example.course-peek"\} (\d+)/.exec(metrics);
    assert.ok(Number(dropped?.[1]) > 0, 'drops are counted');
    assert.match(
      metrics,
      /classtop_gateway_active_streams\{tenant="school-a",plugin="com.example.course-peek",rpc="SubscribeEvents"\} 3/,
    );
    slow.close();
    fast.close();
  });

  it('keepalive is enforced: a connection that pings too often, or pings with no call open, is told to go away', async () => {
    const socket = t.gatewaySocket('school-a', HELLO);
    const connect = async () => {
      const session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
      await once(session, 'connect');
      return session;
    };
    const ping = (session: http2.ClientHttp2Session) =>
      new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    const goaway = (session: http2.ClientHttp2Session) =>
      new Promise<{ code: number; data: string }>((resolve) => {
        session.on('goaway', (code, _lastStream, data) => resolve({ code, data: data?.toString() ?? '' }));
        session.on('error', () => {}); // the gateway closing it is the point
        setTimeout(() => resolve({ code: -1, data: 'no GOAWAY within 5 s' }), 5_000).unref();
      });
    const tooManyPings = { code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, data: 'too_many_pings' };
    const polite = await connect();
    const idle = await connect();
    const rude = await connect();
    try {
      let politeWentAway = false;
      polite.on('goaway', () => (politeWentAway = true));
      // A keepalive client with a call open (an event stream that stays quiet).
      const held = polite.request({
        ':method': 'POST',
        ':path': '/classtop.plugin.ClassTopPluginService/SubscribeEvents',
        'content-type': 'application/grpc',
        te: 'trailers',
        session_token: helloToken,
      });
      held.on('error', () => {});
      const idleWentAway = goaway(idle);
      for (let i = 0; i < 4; i++) {
        await ping(polite);
        await ping(idle).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, LIMITS.minPingIntervalMs + 100));
      }
      assert.deepEqual(await idleWentAway, tooManyPings, 'pings without a call open are not keepalive');
      const rudeWentAway = goaway(rude);
      for (let i = 0; i < 10 && !rude.closed && !rude.destroyed; i++) await ping(rude).catch(() => {});
      assert.deepEqual(await rudeWentAway, tooManyPings);
      await ping(polite);
      assert.equal(politeWentAway, false, 'pings at the allowed interval during a call are fine');
      assert.equal((await hello.callApi('get_courses', {}, helloToken)).code, 'OK', 'the plugin is still served');
    } finally {
      for (const session of [polite, idle, rude]) session.destroy();
    }
  });

  it('metrics count calls by tenant, plugin, API and code; plugins by state', async () => {
    const metrics = await (await fetch(`${t.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      /classtop_gateway_calls_total\{tenant="school-a",plugin="com.example.hello-world",api="get_courses",code="RATE_LIMIT_EXCEEDED"\} \d+/,
    );
    assert.match(
      metrics,
      /classtop_gateway_calls_total\{tenant="school-a",plugin="com.example.course-peek",api="get_courses",code="OK"\} \d+/,
    );
    assert.match(metrics, /classtop_gateway_call_duration_seconds_bucket\{le="0.005",tenant="school-a"/);
    assert.match(metrics, /classtop_plugins\{tenant="school-a",state="ENABLED"\} 2/);
    assert.match(metrics, /classtop_lifecycle_jobs\{state="completed"\} \d+/);
  });

  it('an audit record for every decision, as JSON on its own stream, without secrets', async () => {
    const read = () =>
      readFileSync(t.config.auditLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Records are written in batches, at least once a second: wait for the last one looked for.
    const lines = await pollUntil(
      read,
      (all) => all.some((l) => l.code === 'RATE_LIMIT_EXCEEDED') && all.some((l) => l.api === 'keepalive'),
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    const denied = lines.find((l) => l.code === 'RATE_LIMIT_EXCEEDED');
    assert.deepEqual(denied && [denied.stream, denied.tenant, denied.pluginId, denied.api, denied.decision], [
      'audit',
      'school-a',
      HELLO,
      'get_courses',
      'denied',
    ]);
    assert.equal(typeof denied?.latencyMs, 'number');
    assert.ok(lines.some((l) => l.decision === 'allowed' && l.api === 'get_courses'));
    assert.ok(lines.some((l) => l.api === 'Register'));
    assert.ok(
      lines.some((l) => l.api === 'keepalive' && l.decision === 'denied'),
      'the ping violation is audited',
    );
    const text = readFileSync(t.config.auditLog, 'utf8');
    assert.ok(!text.includes(helloToken) && !text.includes('ct1.'), 'no session token in the audit log');
  });

  it("a tenant's quota is enforced at enable time, naming the quota and the use", () => {
    const statuses = t.orchestrator.list().filter((p) => p.tenant === 'school-b');
    assert.deepEqual(statuses.map((p) => p.state).sort(), ['ENABLED', 'ERROR']);
    const refused = statuses.find((p) => p.state === 'ERROR');
    assert.equal(refused?.reason, 'QUOTA_EXCEEDED');
    assert.match(
      refused?.lastError ?? '',
      /tenant 'school-b' quota plugins is 1; in use 1, com\.example\.[a-z-]+ needs 1 more/,
    );
  });
});
