import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { redisKeys } from '../../src/redis/index.ts';
import { TestGatewayClient } from '../helpers/gateway-client.ts';
import { pollUntil } from '../helpers/poll.ts';
import { buildSpecClients } from '../helpers/spec-clients.ts';
import { EXAMPLES, REPO_ROOT, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const TENANT = 'school-a';
const HELLO = 'com.example.hello-world';
const KIB = 1024;
/** The default maxMetadataBytes. */
const MAX_METADATA_BYTES = 8 * KIB;
/**
 * Far past the limit: a header block this large (four fields of 50 KiB) takes more CONTINUATION
 * frames than Node's HTTP/2 layer accepts, so it closes the connection before grpc-js sees the call.
 */
const HUGE_FIELDS = 4;
const HUGE_FIELD_KIB = 50;
const HOSTILE_DEPTH = 100_000;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const PYTHON_CLIENT = path.join(REPO_ROOT, 'test/fixtures/clients/metadata_client.py');
const PYTHON_TIMEOUT_MS = 60_000;
const POLL_MS = 50;
const MAX_POLLS = 200;

/**
 * What a hostile plugin sends that no size or rate limit catches: oversized metadata, deeply
 * nested JSON, another spelling of its token. Each is refused at the gateway with a reason,
 * audited, reaches nothing upstream, and the plugin's next call is served. Default call limits.
 */
describe('gateway input limits: metadata, nesting and token encoding', () => {
  let t: TestOrchestrator;
  let client: TestGatewayClient;
  let token: string;
  const stored = (key: string) => t.redis.hget(redisKeys.pluginData(TENANT, HELLO), key);
  const audit = () => t.audit();

  before(async () => {
    t = await startTestOrchestrator([{ id: TENANT, plugins: [path.join(EXAMPLES, 'hello-world')] }]);
    client = new TestGatewayClient(t.gatewaySocket(TENANT, HELLO));
    token = (await client.register(HELLO, '1.0.0')).token;
  });

  after(async () => {
    client?.close();
    await t?.stop();
  });

  it('metadata over maxMetadataBytes is refused, audited, and reaches nothing upstream; 4 KiB is served', async () => {
    const send = (kib: number, fields = 1) => {
      const headers = Object.fromEntries(
        Array.from({ length: fields }, (_, i) => [`x-filler-${i}`, 'x'.repeat((kib / fields) * KIB)]),
      );
      return client.startCall('set_plugin_data', { key: `metadata-${kib}`, value: kib }, token, undefined, headers)
        .outcome;
    };
    assert.equal((await send(4)).code, 'OK');
    for (const kib of [16, 64]) {
      const refused = await send(kib);
      assert.equal(refused.code, 'INVALID_REQUEST', `${kib} KiB: ${refused.message}`);
      assert.equal(refused.grpcStatus, GrpcStatus.OK, 'a refused CallApi is a response');
      assert.match(
        refused.message,
        new RegExp(`CallApi: metadata of \\d+ bytes exceeds maxMetadataBytes \\(${MAX_METADATA_BYTES}\\)`),
      );
    }
    const hugeKib = HUGE_FIELDS * HUGE_FIELD_KIB;
    const huge = await send(hugeKib, HUGE_FIELDS);
    assert.notEqual(huge.grpcStatus, GrpcStatus.OK, `${hugeKib} KiB is refused too: ${huge.message}`);
    assert.equal(await stored('metadata-4'), '4');
    for (const kib of [16, 64, hugeKib]) assert.equal(await stored(`metadata-${kib}`), null, `${kib} KiB`);
    assert.equal((await client.callApi('get_courses', {}, token)).code, 'OK', 'the next call is served');
    const register = await client.register(HELLO, '1.0.0', [], undefined, { 'x-filler': 'x'.repeat(16 * KIB) });
    assert.deepEqual([register.code, register.token], ['INVALID_REQUEST', ''], register.message);
    assert.match(register.message, /^INVALID_REQUEST: Register: metadata of \d+ bytes exceeds maxMetadataBytes/);
    const denials = await pollUntil(
      () => audit().filter((r) => r.pluginId === HELLO && /maxMetadataBytes/.test(String(r.reason))),
      (found) => found.length >= 3,
      { intervalMs: POLL_MS, maxPolls: MAX_POLLS },
    );
    assert.deepEqual(
      denials.map((r) => [r.api, r.decision, r.code]),
      [
        ['CallApi', 'denied', 'INVALID_REQUEST'],
        ['CallApi', 'denied', 'INVALID_REQUEST'],
        ['Register', 'denied', 'INVALID_REQUEST'],
      ],
    );
  });

  it('a stock grpcio client (Debian) sees the metadata refusal in the response it decodes', async () => {
    const { python } = await buildSpecClients();
    const socket = t.gatewaySocket(TENANT, HELLO);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        python.command,
        [PYTHON_CLIENT, socket, token, '4', '16', '64'],
        { env: python.env, timeout: PYTHON_TIMEOUT_MS },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
      ),
    );
    const outcomes = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, Record<string, unknown>>;
    assert.deepEqual(outcomes['4'], { success: true, error_message: '' });
    for (const kib of ['16', '64']) {
      assert.equal(outcomes[kib]?.success, false, JSON.stringify(outcomes[kib]));
      assert.match(
        String(outcomes[kib]?.error_message),
        /^INVALID_REQUEST: CallApi: metadata of \d+ bytes exceeds maxMetadataBytes \(8192\)/,
      );
      assert.equal(await stored(`metadata-py-${kib}`), null, `${kib} KiB reached nothing upstream`);
    }
    assert.equal(await stored('metadata-py-4'), '4');
  });

  it('a 100,000-deep payload is refused naming the nesting limit, nothing fails, and the next call works', async () => {
    const deep = `{"key":"deep","value":${'['.repeat(HOSTILE_DEPTH)}${']'.repeat(HOSTILE_DEPTH)}}`;
    const refused = await client.callApi('set_plugin_data', deep, token);
    assert.equal(refused.code, 'INVALID_REQUEST', refused.message);
    assert.match(refused.message, /set_plugin_data: payload has arrays or objects nesting deeper than 64 levels/);
    assert.equal(await stored('deep'), null, 'nothing reached the host');
    const next = await client.callApi('set_plugin_data', { key: 'after-deep', value: [[{ a: [1] }]] }, token);
    assert.equal(next.code, 'OK', next.message);
    assert.equal(await stored('after-deep'), '[[{"a":[1]}]]');
    // The gateway logs an error for INTERNAL_ERROR decisions only: there is none.
    const metrics = await (await fetch(`${t.adminUrl}/metrics`)).text();
    assert.match(metrics, /classtop_gateway_calls_total\{[^}]*api="set_plugin_data",code="INVALID_REQUEST"\} 1/);
    assert.doesNotMatch(metrics, /code="INTERNAL_ERROR"/);
  });

  it('a token whose MAC has its unused bits changed is refused, though it decodes to the same bytes', async () => {
    const [version, claims, mac] = token.split('.') as [string, string, string];
    const last = BASE64URL.indexOf(mac.at(-1) ?? '');
    const respelled = mac.slice(0, -1) + BASE64URL[last ^ 1];
    assert.ok(mac.length % 4 !== 0 && respelled !== mac, 'the MAC has unused bits to change');
    assert.deepEqual(Buffer.from(respelled, 'base64url'), Buffer.from(mac, 'base64url'), 'same bytes');
    const forged = `${version}.${claims}.${respelled}`;
    for (const refused of [await client.callApi('get_courses', {}, forged), await client.subscribeOnce(forged)]) {
      assert.equal(refused.code, 'AUTHENTICATION_FAILED', refused.message);
      assert.match(refused.message, /malformed session token/);
    }
    assert.equal((await client.callApi('get_courses', {}, token)).code, 'OK', 'the genuine token still works');
  });
});
