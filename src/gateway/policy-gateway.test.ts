import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  credentials,
  Metadata,
  status as GrpcStatus,
  type Client,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '../errors/index.ts';
import { createLogger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import { SandboxMetrics } from '../metrics/index.ts';
import {
  loadProtocol,
  type HostApiRequest,
  type HostCall,
  type PluginApiCall,
  type PluginApiRequest,
  type PluginApiResponse,
  type PluginApiResult,
  type PluginEvent,
  type PluginRegisterResponse,
} from '../protocol/index.ts';
import { UpstreamCalls, type Upstream } from '../upstream/index.ts';
import type { AuditRecord } from './audit-log.ts';
import { PolicyGateway } from './policy-gateway.ts';
import { SessionTokens, type SessionIdentity } from './session-tokens.ts';

const PLUGIN = 'com.example.inproc';
const VERSION = '1.0.0';
const DEADLINE_MS = 5_000;
const identity: SessionIdentity = {
  tenant: 'tenant-a',
  pluginId: PLUGIN,
  instanceId: 'inst-1',
  certificateFingerprint: '',
};
const manifest: PluginManifest = {
  id: PLUGIN,
  name: PLUGIN,
  version: VERSION,
  runtime: 'node',
  directory: '/nonexistent',
  entry: 'index.js',
  permissions: ['read:courses'],
  privilegedPermissions: [],
  ipcTimeoutMs: DEADLINE_MS,
  certificate: { path: '', fingerprint: null },
  dependencies: { classtopVersion: null, pythonPackages: [] },
  sandbox: { memoryMb: 64, cpus: 1, pids: 16, shmMb: 1, tmpMb: 1, paths: [] },
};

/** The host, in memory: answers every call with its api_name, and records what reached it. */
class FakeUpstream implements Upstream {
  readonly received: HostApiRequest[] = [];
  private readonly watchers = new Set<(event: PluginEvent) => void>();
  /** Emits 'watching' when a gateway starts watching events, 'unwatched' when it stops. */
  readonly watches = new EventEmitter();

  openCalls(): UpstreamCalls {
    return new UpstreamCalls(() => {
      const channel = new EventEmitter();
      const write = ({ id, request, cancel }: HostCall) => {
        if (cancel || !request) return true;
        this.received.push(request);
        const result = Buffer.from(JSON.stringify({ served: request.api_name }));
        const response: PluginApiResponse = { success: true, error_message: '', result, error_code: 'OK' };
        setImmediate(() => channel.emit('data', { id, response }));
        return true;
      };
      return Object.assign(channel, { write, end: () => undefined });
    });
  }

  watchEvents(_tenant: string, onEvent: (event: PluginEvent) => void): () => void {
    this.watchers.add(onEvent);
    this.watches.emit('watching');
    return () => {
      this.watchers.delete(onEvent);
      this.watches.emit('unwatched');
    };
  }

  publish(sourcePluginId: string, eventName: string): void {
    const event = {
      event_name: eventName,
      event_data: Buffer.from('{}'),
      timestamp: 0,
      source_plugin_id: sourcePluginId,
      timestamp_ms: 0,
    };
    for (const watcher of this.watchers) watcher(event);
  }
}

type Callback<T> = (err: ServiceError | null, response?: T) => void;
type PluginClient = Client & {
  Register(request: object, metadata: Metadata, options: object, callback: Callback<PluginRegisterResponse>): void;
  CallApi(request: PluginApiRequest, metadata: Metadata, options: object, callback: Callback<PluginApiResponse>): void;
  CallStream(metadata: Metadata): ClientDuplexStream<PluginApiCall, PluginApiResult>;
  SubscribeEvents(metadata: Metadata): ClientDuplexStream<object, PluginEvent>;
};

function withToken(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('session_token', token);
  return metadata;
}

function request(apiName: string, payload: unknown): PluginApiRequest {
  return { api_name: apiName, payload: Buffer.from(JSON.stringify(payload)), metadata: {} };
}

/** A refusal as the gateway answers one: success false, its code in error_code and first in the message. */
function assertRefused(response: PluginApiResponse | undefined, code: string): void {
  assert.equal(response?.success, false);
  assert.equal(response?.error_code, code);
  assert.ok(response?.error_message.startsWith(`${code}: `), response?.error_message);
}

describe('PolicyGateway in process: a real gRPC client on a unix socket, a fake upstream', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-gateway-'));
  const upstream = new FakeUpstream();
  const audit: AuditRecord[] = [];
  const announced: string[] = [];
  const gateway = new PolicyGateway({
    identity,
    manifest,
    granted: new Set(['read:courses']),
    tokens: new SessionTokens(Buffer.alloc(32, 3), 60_000),
    upstream,
    limits: {
      callsPerSecond: 1_000,
      burst: 1_000,
      maxConcurrentCalls: 16,
      maxStreams: 1,
      maxMessageBytes: 1_024,
      maxMetadataBytes: 8 * 1_024,
      maxDeadlineMs: DEADLINE_MS,
      minPingIntervalMs: 1_000,
    },
    onSharedMemoryReady: async (name) => void announced.push(name),
    metrics: new SandboxMetrics(),
    audit: (record) => audit.push(record),
    log: createLogger({ level: 'silent', sync: true }),
  });
  let client: PluginClient;
  let token = '';

  const callApi = (req: PluginApiRequest, metadata = withToken(token)) =>
    new Promise<PluginApiResponse | undefined>((resolve, reject) =>
      client.CallApi(req, metadata, { deadline: Date.now() + DEADLINE_MS }, (err, response) =>
        err ? reject(err) : resolve(response),
      ),
    );
  const register = (body: object) =>
    new Promise<PluginRegisterResponse | undefined>((resolve, reject) =>
      client.Register(
        { plugin_id: PLUGIN, plugin_name: PLUGIN, version: VERSION, permissions: [], ...body },
        new Metadata(),
        { deadline: Date.now() + DEADLINE_MS },
        (err, response) => (err ? reject(err) : resolve(response)),
      ),
    );
  /** How a refused stream ends: its error-code trailer. */
  const refusedStream = async (stream: EventEmitter) => {
    const [err] = (await once(stream, 'error')) as [ServiceError];
    return err.metadata.get(ERROR_CODE_METADATA_KEY)[0];
  };

  before(async () => {
    const socket = path.join(scratch, 'gateway.sock');
    await gateway.listen(socket);
    const { PluginService } = loadProtocol();
    client = new PluginService(`unix://${socket}`, credentials.createInsecure()) as unknown as PluginClient;
  });

  after(async () => {
    const closed = gateway.close();
    client.close();
    await closed;
    rmSync(scratch, { recursive: true, force: true });
  });

  it('Register: refuses another plugin or ungranted permissions as responses, then issues the token', async () => {
    const other = await register({ plugin_id: 'com.example.other' });
    assert.equal(other?.success, false);
    assert.equal(other?.error_code, 'AUTHENTICATION_FAILED');
    assert.match(
      other?.message ?? '',
      /^AUTHENTICATION_FAILED: Register: this socket belongs to com\.example\.inproc@1\.0\.0/,
    );
    const greedy = await register({ permissions: ['modify:courses'] });
    assert.equal(greedy?.error_code, 'PERMISSION_DENIED');
    assert.match(greedy?.message ?? '', /^PERMISSION_DENIED: Register: permissions not granted/);
    const registered = await register({ permissions: ['read:courses'] });
    assert.equal(registered?.success, true);
    token = registered?.session_token ?? '';
    assert.equal((await gateway.registered).plugin_id, PLUGIN);
  });

  it('CallApi: refusals come back as responses and nothing refused reaches the upstream', async () => {
    assertRefused(await callApi(request('get_courses', {}), withToken(undefined)), 'AUTHENTICATION_FAILED');
    assertRefused(await callApi(request('get_courses', {}), withToken('ct1.e30.AAAA')), 'AUTHENTICATION_FAILED');
    assertRefused(await callApi(request('no_such_api', {})), 'NOT_FOUND');
    assertRefused(await callApi(request('add_course', {})), 'PERMISSION_DENIED');
    assertRefused(await callApi(request('log_info', { message: 'x'.repeat(2_000) })), 'INVALID_REQUEST');
    assertRefused(await callApi(request('log_info', { nope: 1 })), 'INVALID_REQUEST');
    assert.equal(upstream.received.length, 0);
    const served = await callApi(request('get_courses', {}));
    assert.equal(served?.success, true);
    assert.deepEqual(JSON.parse(served?.result.toString() ?? ''), { served: 'get_courses' });
    // The identity forwarded is the socket's, whatever the request said.
    assert.deepEqual(
      upstream.received.map((r) => [r.tenant, r.plugin_id, r.instance_id, r.api_name]),
      [['tenant-a', PLUGIN, 'inst-1', 'get_courses']],
    );
  });

  it('CallApi: a shared-memory announcement is answered by the gateway, not forwarded', async () => {
    const before = upstream.received.length;
    const answer = await callApi(request('notify_shared_memory_ready', { name: 'frame-1', size: 4_096 }));
    assert.equal(answer?.success, true);
    assert.deepEqual(announced, ['frame-1']);
    assert.equal(upstream.received.length, before);
  });

  it('CallStream: each call answered by its id, refusals as responses, the stream going on', async () => {
    assert.equal(await refusedStream(client.CallStream(withToken(undefined))), 'AUTHENTICATION_FAILED');
    const before = upstream.received.length;
    const stream = client.CallStream(withToken(token));
    const answers = new Map<number, PluginApiResponse | null>();
    const all = new Promise<void>((resolve) =>
      stream.on('data', ({ id, response }: PluginApiResult) => {
        answers.set(id, response);
        if (answers.size === 3) resolve();
      }),
    );
    const deadline_ms = Date.now() + DEADLINE_MS;
    stream.write({ id: 1, request: request('add_course', {}), deadline_ms });
    stream.write({
      id: 2,
      request: { ...request('get_courses', {}), metadata: { session_token: 'forged' } },
      deadline_ms,
    });
    stream.write({ id: 3, request: request('get_courses', {}), deadline_ms });
    await all;
    stream.end();
    await once(stream, 'end');
    assertRefused(answers.get(1) ?? undefined, 'PERMISSION_DENIED');
    assertRefused(answers.get(2) ?? undefined, 'AUTHENTICATION_FAILED');
    assert.equal(answers.get(3)?.success, true);
    assert.deepEqual(
      upstream.received.slice(before).map((r) => r.api_name),
      ['get_courses'],
    );
  });

  it('SubscribeEvents: only the events this plugin may receive; a refused stream never watches upstream', async () => {
    let watched = 0;
    upstream.watches.on('watching', () => watched++);
    assert.equal(await refusedStream(client.SubscribeEvents(withToken('forged'))), 'AUTHENTICATION_FAILED');
    const stream = client.SubscribeEvents(withToken(token));
    await once(upstream.watches, 'watching');
    assert.equal(watched, 1);
    // maxStreams is 1: a second subscription is refused while this one is open.
    assert.equal(await refusedStream(client.SubscribeEvents(withToken(token))), 'RATE_LIMIT_EXCEEDED');
    upstream.publish('system', 'setting_update'); // needs access:settings, not granted
    upstream.publish('com.example.other', 'course_update'); // a plugin's event outside its namespace
    upstream.publish('system', 'course_update'); // read:courses: delivered
    const [first] = (await once(stream, 'data')) as [PluginEvent];
    assert.equal(first.event_name, 'course_update');
    assert.equal(first.source_plugin_id, 'system');
    // The plugin leaves: its stream ends, and so does the gateway's watch upstream.
    const cancelled = once(stream, 'error');
    const unwatched = once(upstream.watches, 'unwatched');
    stream.cancel();
    assert.equal(((await cancelled) as [ServiceError])[0].code, GrpcStatus.CANCELLED);
    await unwatched;
    assert.equal(watched, 1);
  });

  it('audits every decision, the refusals as denied with their code', () => {
    const denied = audit.filter((r) => r.decision === 'denied').map((r) => `${r.api}:${r.code}`);
    assert.ok(denied.includes('Register:AUTHENTICATION_FAILED'), denied.join(' '));
    assert.ok(denied.includes('add_course:PERMISSION_DENIED'));
    assert.ok(denied.includes('SubscribeEvents:RATE_LIMIT_EXCEEDED'));
    assert.ok(audit.some((r) => r.api === 'get_courses' && r.decision === 'allowed' && r.tenant === 'tenant-a'));
  });
});
