import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PolicyGateway, type GatewayOptions } from '../../src/gateway/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { pollUntil } from '../helpers/poll.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-py';
const PLUGIN = 'com.test.py-resilient';
const POLL = { intervalMs: 100, maxPolls: 300 };

/**
 * Every gateway the orchestrator opens, by socket, so that the test can restart one: close it
 * (its server, its streams, its socket) and serve a new one with the same options on the same
 * socket, as a gateway that went away and came back. The plugin's container stays as it was.
 */
const gateways = new Map<string, PolicyGateway>();
const restarted: PolicyGateway[] = [];
const listen = PolicyGateway.prototype.listen;
PolicyGateway.prototype.listen = function (this: PolicyGateway, socketPath: string) {
  gateways.set(socketPath, this);
  return listen.call(this, socketPath);
};

async function restartGateway(socketPath: string): Promise<void> {
  const old = gateways.get(socketPath);
  assert.ok(old, `no gateway serves ${socketPath}`);
  // The path goes first: a reconnect racing the close must not reach the old gateway (a real
  // restart has no old gateway left to register with), so every Register after this is the new one's.
  rmSync(socketPath, { force: true });
  await old.close();
  const fresh = new PolicyGateway((old as unknown as { options: GatewayOptions }).options);
  restarted.push(fresh);
  await fresh.listen(socketPath);
}

describe('a Python plugin rides out a gateway restart (the SDK reconnects on a fresh channel)', () => {
  let t: TestOrchestrator;
  const call = <T>(fn: string, body: unknown = {}) =>
    admin<T>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${PLUGIN}/functions/${fn}`, body);
  const audit = () => t.audit().filter((r) => r.pluginId === PLUGIN);
  /** The plugin's open streams on its gateway, by RPC (the gateway's own gauge). */
  const streams = async () => {
    const metrics = await (await fetch(`${t.adminUrl}/metrics`)).text();
    const open = (rpc: string) =>
      Number(
        new RegExp(
          `classtop_gateway_active_streams\\{tenant="${TENANT}",plugin="${PLUGIN}",rpc="${rpc}"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    return { CallStream: open('CallStream'), SubscribeEvents: open('SubscribeEvents') };
  };
  /** Makes the host announce schedule_updates until the plugin has heard more than `before`. */
  const heardAfter = (before: number) =>
    pollUntil(
      async () => {
        assert.equal((await call('add_entry')).status, 200);
        return (await call<number>('seen_events')).body;
      },
      (seen) => seen > before,
      POLL,
    );

  before(async () => {
    t = await startTestOrchestrator([
      {
        id: TENANT,
        permissions: ['read:courses', 'modify:courses', 'read:schedules', 'modify:schedules'],
        trust: exampleTrust({ allowUnsigned: true }),
        plugins: [path.join(FIXTURES, 'py-resilient')],
      },
    ]);
  });

  after(async () => {
    await t?.stop();
    await Promise.all(restarted.map((gateway) => gateway.close()));
    PolicyGateway.prototype.listen = listen;
  });

  it('before: its host calls go on one CallStream, and it hears the events it listens to', async () => {
    assert.equal(t.status(TENANT, PLUGIN).state, 'ENABLED', t.status(TENANT, PLUGIN).lastError ?? '');
    const answer = await call<Record<string, unknown>>('round_trip', { n: 1 });
    assert.deepEqual(answer.body, { course: 'Course 1', stored: 1 });
    assert.ok((await heardAfter(0)) >= 1);
    assert.deepEqual(await streams(), { CallStream: 1, SubscribeEvents: 1 });
  });

  it('after a restart: it registers again, reopens both streams, and calls, answers and hears as before', async () => {
    const containerId = t.status(TENANT, PLUGIN).containerId;
    const registers = audit().filter((r) => r.api === 'Register').length;
    const heard = (await call<number>('seen_events')).body;
    await restartGateway(t.gatewaySocket(TENANT, PLUGIN));

    // It registered again with its certificate, and subscribed to its events again, by itself.
    const reopened = await pollUntil(streams, (open) => open.SubscribeEvents === 1, POLL);
    assert.equal(reopened.SubscribeEvents, 1);
    const again = await pollUntil(
      () => audit().filter((r) => r.api === 'Register' && r.decision === 'allowed').length,
      (n) => n > registers,
      POLL,
    );
    assert.equal(again, registers + 1, 'one Register on the new gateway');

    // Host -> plugin: its own socket, untouched by the restart.
    assert.deepEqual((await call('ping', { n: 2 })).body, { pong: { n: 2 } });
    // Plugin -> host: on the call stream, opened again on the new connection.
    assert.deepEqual((await call('round_trip', { n: 2 })).body, { course: 'Course 2', stored: 2 });
    assert.deepEqual(await streams(), { CallStream: 1, SubscribeEvents: 1 });
    // An event it listens to still arrives.
    assert.ok((await heardAfter(heard)) > heard);

    const status = t.status(TENANT, PLUGIN);
    assert.equal(status.state, 'ENABLED');
    assert.equal(status.containerId, containerId, 'the same container: the SDK rode it out, nothing restarted');
    assert.equal(status.restarts, 0);
  });
});
