import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScheduleStore } from '../../src/host/index.ts';
import { EXAMPLE_CERTIFICATE_PATH, TestGatewayClient } from '../helpers/gateway-client.ts';
import { buildSpecClients, runSpecClient, type SpecClientKind } from '../helpers/spec-clients.ts';
import { EXAMPLES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const HELLO = 'com.example.hello-world';
/** How long each client holds its event stream open while events flow, as the issue asks. */
const HOLD_S = 60;
const CLIENT_TIMEOUT_MS = (HOLD_S + 60) * 1_000;
/** Tenants: one per client kind, so each client's events and gateway are its own. */
const TENANT: Record<SpecClientKind, string> = { python: 'school-py', cpp: 'school-cpp' };

describe("stock gRPC clients built from the specification's proto (Debian's grpcio and libgrpc++)", () => {
  let t: TestOrchestrator;
  let clients: Awaited<ReturnType<typeof buildSpecClients>>;

  before(async () => {
    // Default limits: the keepalive policy a stock client meets in production.
    [t, clients] = await Promise.all([
      startTestOrchestrator(
        Object.values(TENANT).map((id) => ({ id, plugins: [path.join(EXAMPLES, 'hello-world')] })),
        {},
      ),
      buildSpecClients(),
    ]);
    // Week 1 has Hello World 101 in it, so the specification's example has something to find.
    for (const tenant of Object.values(TENANT)) {
      const hello = new TestGatewayClient(t.gatewaySocket(tenant, HELLO));
      const { token } = await hello.register(HELLO, '1.0.0');
      const courses = (await hello.callApi('get_courses', {}, token)).result as Array<{ id: number }>;
      const slot = { day_of_week: 1, start_time: '08:00', end_time: '09:00', weeks: [1] };
      await new ScheduleStore(t.redis).add(tenant, { course_id: courses[0]?.id ?? 0, ...slot });
      hello.close();
    }
  });

  after(async () => {
    await t?.stop();
  });

  it('hold an event stream open for a minute with events flowing, and read every refusal from the response', async () => {
    const kinds: SpecClientKind[] = ['python', 'cpp'];
    const reports = await Promise.all(
      kinds.map((kind) =>
        runSpecClient(
          clients[kind],
          [t.gatewaySocket(TENANT[kind], HELLO), HELLO, '1.0.0', EXAMPLE_CERTIFICATE_PATH, 'get_setting', `${HOLD_S}`],
          CLIENT_TIMEOUT_MS,
        ),
      ),
    );
    for (const [i, report] of reports.entries()) {
      const kind = kinds[i];
      assert.deepEqual(report.errors, [], `${kind}: no call failed at the transport`);
      assert.equal(report.registered, true, `${kind}: registered`);
      assert.equal(report.example.success, true, `${kind}: the specification's example is accepted`);
      assert.deepEqual(
        (report.example.result as Array<{ name: string }>).map((c) => c.name),
        ['Hello World 101'],
        `${kind}: get_courses {"week": 1} answers the courses of week 1`,
      );
      assert.equal(report.refused?.success, false);
      assert.match(report.refused?.error_message ?? '', /^PERMISSION_DENIED: get_setting needs permission/);
      if (kind === 'python') {
        assert.equal(report.forged_register?.success, false);
        assert.match(report.forged_register?.message ?? '', /^AUTHENTICATION_FAILED: /);
      }
      const { events } = report;
      assert.equal(events.stream_ended, null, `${kind}: the event stream was not cut`);
      assert.equal(events.stream_open_at_end, true);
      assert.ok(events.sent >= HOLD_S * 5, `${kind}: events kept flowing (${events.sent} sent)`);
      assert.ok(events.received >= events.sent * 0.98, `${kind}: ${events.received} of ${events.sent} received`);
      assert.equal(events.timestamps_in_seconds, true, `${kind}: PluginEvent.timestamp is Unix seconds`);
    }
    const audit = readFileSync(t.config.auditLog, 'utf8');
    assert.ok(!audit.includes('"api":"keepalive"'), 'no connection was closed for its pings');
  });

  it('a Register refused is a response a spec client reads: success false, the code first in its message', async () => {
    const hello = new TestGatewayClient(t.gatewaySocket(TENANT.python, HELLO));
    const refused = await hello.register('com.example.someone-else', '1.0.0');
    hello.close();
    assert.equal(refused.grpcStatus, 0);
    assert.equal(refused.code, 'AUTHENTICATION_FAILED');
    assert.match(refused.message, /^AUTHENTICATION_FAILED: Register: this socket belongs to com\.example\.hello-world/);
  });

  it('the same default policy still closes a true ping flood', async () => {
    const socket = t.gatewaySocket(TENANT.python, HELLO);
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
    session.on('error', () => {}); // the gateway closing it is the point
    await once(session, 'connect');
    const wentAway = new Promise<string>((resolve) => {
      session.on('goaway', (_code, _last, data) => resolve(data?.toString() ?? ''));
      setTimeout(() => resolve('no GOAWAY within 5 s'), 5_000).unref();
    });
    const ping = () => new Promise<void>((resolve) => session.ping(() => resolve()));
    for (let i = 0; i < 10 && !session.closed && !session.destroyed; i++) await ping();
    assert.equal(await wentAway, 'too_many_pings');
    session.destroy();
  });
});
