import type { EventEmitter } from 'node:events';
import { chmodSync } from 'node:fs';
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type Metadata,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { asSandboxError, refusalText, SandboxError, toGrpcStatus } from '../errors/index.ts';
import {
  findHostApi,
  isInNamespaceOf,
  parsePayload,
  SYSTEM_EVENT_PERMISSIONS,
  SYSTEM_SOURCE,
} from '../host-api/index.ts';
import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import { parseCertificates } from '../trust/index.ts';
import {
  loadProtocol,
  shutdownServer,
  type PluginApiCall,
  type PluginApiRequest,
  type PluginApiResponse,
  type PluginApiResult,
  type PluginEvent,
  type PluginEventAck,
  type PluginRegisterRequest,
  type PluginRegisterResponse,
} from '../protocol/index.ts';
import type { SandboxMetrics } from '../metrics/index.ts';
import type { AuditLog } from './audit-log.ts';
import { EventFeed } from './event-feed.ts';
import { limitMetadata } from './metadata-limit.ts';
import { enforcePingPolicy } from './ping-policy.ts';
import type { SessionIdentity, SessionTokens } from './session-tokens.ts';
import { TokenBucket } from './token-bucket.ts';
import type { Upstream, UpstreamCalls } from '../upstream/index.ts';

const SHUTDOWN_GRACE_MS = 2_000;
/** Room for the envelope around a payload of the maximum size. */
const MESSAGE_HEADROOM_BYTES = 64 * 1024;
/** The gateway pings each plugin connection this often, and drops one that does not answer in time. */
const KEEPALIVE_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;
/** CallStreams a plugin may have open at once: the SDK keeps one, and opens another if it fails. */
const MAX_CALL_STREAMS = 2;
/** HTTP/2 streams per connection beyond the call and stream limits: the call streams, Register, and some slack. */
const TRANSPORT_STREAM_HEADROOM = MAX_CALL_STREAMS + 4;
const EVENT_WINDOW = 64;
const EVENT_BUFFER = 256;
const TOKEN_METADATA_KEY = 'session_token';
const TOO_MANY_PINGS_REASON = 'the plugin pinged more often than minPingIntervalMs allows; its connection was closed';

export interface GatewayOptions {
  identity: SessionIdentity;
  manifest: PluginManifest;
  /** Permissions this instance holds: the manifest's, as allowed by its tenant. */
  granted: ReadonlySet<string>;
  tokens: SessionTokens;
  upstream: Upstream;
  limits: CallLimits;
  /**
   * The plugin announced a region in its shm directory (notify_shared_memory_ready). `withdrawn`
   * aborts if the plugin cancels the announcement or its deadline passes first.
   */
  onSharedMemoryReady: (name: string, size: number, withdrawn: AbortSignal) => Promise<void>;
  metrics: SandboxMetrics;
  audit: AuditLog;
  log: Logger;
}

/** Open streams of one kind, and how many may be open at once. */
interface StreamCount {
  open: number;
  readonly max: number;
  readonly kind: string;
  readonly gauge: ReturnType<SandboxMetrics['activeStreams']['labels']>;
}

interface DecisionSeries {
  calls: ReturnType<SandboxMetrics['calls']['labels']>;
  latency: ReturnType<SandboxMetrics['latency']['labels']>;
  denials: ReturnType<SandboxMetrics['denials']['labels']> | undefined;
}

export interface CallLimits {
  callsPerSecond: number;
  burst: number;
  maxConcurrentCalls: number;
  maxStreams: number;
  maxMessageBytes: number;
  maxMetadataBytes: number;
  /** Largest deadline forwarded upstream, and the deadline of a call that has none. */
  maxDeadlineMs: number;
  /** Shortest interval between the plugin's HTTP/2 pings (keepalive enforcement). */
  minPingIntervalMs: number;
}

/**
 * The policy gateway of one plugin instance: a gRPC server on a unix socket in that instance's
 * socket directory, so every call's identity is the socket it arrived on. It serves Register,
 * CallApi and SubscribeEvents; every call but Register needs this socket's session token.
 */
export class PolicyGateway {
  private readonly options: GatewayOptions;
  private readonly server: Server;
  private readonly log: Logger;
  private registeredResolve!: (request: PluginRegisterRequest) => void;
  /** Settles when the plugin has registered on this socket. */
  readonly registered: Promise<PluginRegisterRequest>;
  private closing: Promise<void> | undefined;
  private readonly bucket: TokenBucket;
  private readonly upstreamCalls: UpstreamCalls;
  private inFlight = 0;
  private readonly eventStreams: StreamCount;
  private readonly callStreams: StreamCount;
  private readonly labels: { tenant: string; plugin: string };
  private readonly seriesCache = new Map<string, DecisionSeries>();
  /** The token last verified on this socket, and when it expires: the same token is not re-MACed per call. */
  private verified: { token: string; expiresAtMs: number } | undefined;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.log = options.log.child({ component: 'gateway' });
    this.registered = new Promise((resolve) => (this.registeredResolve = resolve));
    const { limits } = options;
    this.bucket = new TokenBucket(limits.callsPerSecond, limits.burst);
    this.upstreamCalls = options.upstream.openCalls();
    this.labels = { tenant: options.identity.tenant, plugin: options.identity.pluginId };
    const gauge = (rpc: string) => options.metrics.activeStreams.labels({ ...this.labels, rpc });
    this.eventStreams = { open: 0, max: limits.maxStreams, kind: 'event streams', gauge: gauge('SubscribeEvents') };
    this.callStreams = { open: 0, max: MAX_CALL_STREAMS, kind: 'call streams', gauge: gauge('CallStream') };
    this.server = new Server({
      'grpc.max_receive_message_length': limits.maxMessageBytes + MESSAGE_HEADROOM_BYTES,
      'grpc.max_send_message_length': limits.maxMessageBytes + MESSAGE_HEADROOM_BYTES,
      // grpc-js ignores grpc.max_metadata_size: maxMetadataBytes is enforced by this interceptor.
      interceptors: [
        limitMetadata(limits.maxMetadataBytes, {
          response: refusedBeforeHandler,
          refused: (rpc, failure, started) => this.decided(rpc, failure.code, started, failure.message),
        }),
      ],
      // Backstops under the per-call checks: the transport itself refuses more streams than the
      // limits allow, and finds dead connections. Client pings are policed by enforcePingPolicy.
      'grpc.max_concurrent_streams': limits.maxConcurrentCalls + limits.maxStreams + TRANSPORT_STREAM_HEADROOM,
      'grpc.keepalive_time_ms': KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    });
    this.server.addService(loadProtocol().PluginService.service, {
      Register: this.register.bind(this),
      CallApi: this.callApi.bind(this),
      CallStream: this.callStream.bind(this),
      SubscribeEvents: this.subscribeEvents.bind(this),
      Lifecycle: (_call: unknown, callback: sendUnaryData<never>) =>
        callback({ code: GrpcStatus.UNIMPLEMENTED, details: 'Lifecycle is served by the plugin, not by the gateway' }),
    });
  }

  /** Serves on the unix socket `socketPath`, reachable by the sandbox's user. */
  async listen(socketPath: string): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) => {
        if (err) return reject(err);
        // Before any connection can arrive: the policy must see every session.
        enforcePingPolicy(this.server, this.options.limits.minPingIntervalMs, () =>
          this.decided('keepalive', 'RATE_LIMIT_EXCEEDED', performance.now(), TOO_MANY_PINGS_REASON),
        );
        return resolve();
      }),
    );
    // The socket directory (0700, owned by the sandbox user) is what keeps others out.
    chmodSync(socketPath, 0o666);
  }

  close(): Promise<void> {
    this.closing ??= shutdownServer(this.server, SHUTDOWN_GRACE_MS).then(() => this.upstreamCalls.close());
    return this.closing;
  }

  private register(
    call: ServerUnaryCall<PluginRegisterRequest, PluginRegisterResponse>,
    callback: sendUnaryData<PluginRegisterResponse>,
  ): void {
    const { manifest, identity, granted, tokens } = this.options;
    const request = call.request;
    try {
      if (request.plugin_id !== manifest.id || request.version !== manifest.version) {
        throw new SandboxError(
          'AUTHENTICATION_FAILED',
          `Register: this socket belongs to ${manifest.id}@${manifest.version}, not ${request.plugin_id}@${request.version}`,
        );
      }
      this.checkCertificate(request.certificate);
      const extra = request.permissions.filter((p) => !granted.has(p));
      if (extra.length > 0) {
        throw new SandboxError(
          'PERMISSION_DENIED',
          `Register: permissions not granted to ${manifest.id}: ${extra.join(', ')}; declare them in plugin.yaml and have the tenant allow them`,
        );
      }
      const { token, expiresAtMs } = tokens.issue(identity);
      this.log.info('plugin registered');
      this.decided('Register', 'OK', performance.now());
      callback(null, {
        success: true,
        message: 'registered',
        session_token: token,
        error_code: 'OK',
        token_expires_at_ms: expiresAtMs,
      });
      this.registeredResolve(request);
    } catch (err) {
      const failure = asSandboxError(err, 'Register failed');
      callback(null, failedRegistration(failure));
      this.decided('Register', failure.code, performance.now(), failure.message);
    }
  }

  /** A signed plugin must present the very certificate its bundle was verified with. */
  private checkCertificate(certificate: Buffer): void {
    const expected = this.options.identity.certificateFingerprint;
    if (expected === '') return;
    let presented = '(none)';
    try {
      if (certificate.length > 0) presented = parseCertificates(certificate)[0]?.fingerprint ?? presented;
    } catch {
      presented = '(unreadable)';
    }
    if (presented !== expected) {
      throw new SandboxError(
        'AUTHENTICATION_FAILED',
        `Register: the certificate presented (${presented}) is not the one ${this.options.manifest.id} was verified with (${expected})`,
      );
    }
  }

  private callApi(
    call: ServerUnaryCall<PluginApiRequest, PluginApiResponse>,
    callback: sendUnaryData<PluginApiResponse>,
  ): void {
    const { request } = call;
    const token = request.metadata[TOKEN_METADATA_KEY] ?? tokenFromMetadata(call.metadata);
    // A refusal is a response too (success false, its code in error_code and error_message).
    this.serve(request, token, this.capped(ownDeadline(call)), call, (answer) =>
      callback(null, answer instanceof SandboxError ? failedResponse(answer) : answer),
    );
  }

  /**
   * CallApi calls on one stream (an addition to the protocol), each answered on it by its id:
   * admitted, limited and audited as a CallApi is. A failed call is an answer with its code; the
   * stream goes on. When the plugin cancels the stream, its calls still waiting are withdrawn.
   */
  private callStream(stream: ServerDuplexStream<PluginApiCall, PluginApiResult>): void {
    if (!this.admitStream('CallStream', stream, this.callStreams)) return;
    const token = tokenFromMetadata(stream.metadata);
    // Every waiting call listens for the stream's cancellation.
    stream.setMaxListeners(0);
    let waiting = 0;
    let ended = false;
    stream.on('data', ({ id, request, deadline_ms: deadlineMs }: PluginApiCall) => {
      waiting++;
      const callToken = request?.metadata[TOKEN_METADATA_KEY] ?? token;
      this.serve(request ?? NO_REQUEST, callToken, this.capped(deadlineMs), stream, (answer) => {
        waiting--;
        const response = answer instanceof SandboxError ? failedResponse(answer) : answer;
        if (!stream.cancelled) stream.write({ id, response });
        if (ended && waiting === 0) stream.end();
      });
    });
    this.onStreamClosed(stream, this.callStreams, {
      closed: () => undefined,
      ended: () => {
        ended = true;
        if (waiting === 0) stream.end();
      },
    });
  }

  /**
   * One call, from CallApi or a CallStream: the policy checks, then the host (or the gateway
   * itself, for a shared-memory announcement); `respond` gets the response or the failure, and
   * the decision is audited after.
   */
  private serve(
    request: PluginApiRequest,
    token: string | undefined,
    deadline: number,
    plugin: EventEmitter,
    respond: (answer: PluginApiResponse | SandboxError) => void,
  ): void {
    const started = performance.now();
    const apiName = request.api_name;
    const done = (answer: PluginApiResponse | SandboxError) => {
      respond(answer);
      if (answer instanceof SandboxError) this.decided(apiName, answer.code, started, answer.message);
      else this.decided(apiName, 'OK', started);
    };
    let answer: Promise<PluginApiResponse>;
    try {
      answer = this.admit(request, token, deadline, plugin);
    } catch (err) {
      return done(asSandboxError(err, `${apiName} failed`));
    }
    this.inFlight++;
    answer.then(
      (response) => {
        this.inFlight--;
        done(response);
      },
      (err: unknown) => {
        this.inFlight--;
        done(asSandboxError(err, `${apiName} failed`));
      },
    );
  }

  /** The policy checks of one call, in order; throws the first that fails, or starts the call. */
  private admit(
    request: PluginApiRequest,
    token: string | undefined,
    deadline: number,
    plugin: EventEmitter,
  ): Promise<PluginApiResponse> {
    const { api_name: apiName, payload } = request;
    const { limits, manifest } = this.options;
    this.authenticate(token);
    if (!this.bucket.take()) {
      throw new SandboxError(
        'RATE_LIMIT_EXCEEDED',
        `${manifest.id} is over its rate limit of ${limits.callsPerSecond} calls/s (burst ${limits.burst}); slow down and retry`,
      );
    }
    if (this.inFlight >= limits.maxConcurrentCalls) {
      throw new SandboxError(
        'RATE_LIMIT_EXCEEDED',
        `${manifest.id} already has ${this.inFlight} calls in progress, the maximum; wait for some to finish`,
      );
    }
    const api = findHostApi(apiName);
    if (!api) throw new SandboxError('NOT_FOUND', `unknown host API '${apiName}'; see the host API list in the README`);
    if (api.permission !== null && !this.options.granted.has(api.permission)) {
      throw new SandboxError(
        'PERMISSION_DENIED',
        `${apiName} needs permission '${api.permission}', which ${manifest.id} does not hold; declare it under permissions in plugin.yaml`,
      );
    }
    if (payload.length > limits.maxMessageBytes) {
      throw new SandboxError(
        'INVALID_REQUEST',
        `${apiName}: payload of ${payload.length} bytes exceeds the maximum of ${limits.maxMessageBytes}; send less, or use shared memory`,
      );
    }
    const parsed = parsePayload(apiName, api, payload);
    if (apiName === 'notify_shared_memory_ready') {
      return this.sharedMemoryReady(parsed as { name: string; size: number }, deadline, plugin);
    }
    const { identity } = this.options;
    const forwarded = {
      tenant: identity.tenant,
      plugin_id: identity.pluginId,
      instance_id: identity.instanceId,
      api_name: apiName,
      payload,
    };
    return this.upstreamCalls.invoke(forwarded, deadline, plugin);
  }

  /**
   * The plugin's shm region is ready; answered here, as the region lives in its shm directory,
   * once the host has taken it. The host's consumers are told (`withdrawn`) and the answer is
   * TIMEOUT when the call's capped deadline passes first, or the plugin cancels it: from then on
   * the plugin may write the region again.
   */
  private async sharedMemoryReady(
    region: { name: string; size: number },
    deadline: number,
    plugin: EventEmitter,
  ): Promise<PluginApiResponse> {
    const waitMs = Math.max(0, deadline - Date.now());
    const withdrawn = new AbortController();
    const ended = new Promise<never>((_, reject) =>
      withdrawn.signal.addEventListener('abort', () => reject(withdrawn.signal.reason as Error), { once: true }),
    );
    const timer = setTimeout(
      () =>
        withdrawn.abort(
          new SandboxError(
            'TIMEOUT',
            `the host did not take shared memory region '${region.name}' within ${waitMs} ms`,
          ),
        ),
      waitMs,
    );
    const onCancelled = () =>
      withdrawn.abort(new SandboxError('TIMEOUT', `notify_shared_memory_ready: cancelled by the plugin`));
    plugin.once('cancelled', onCancelled);
    try {
      await Promise.race([this.options.onSharedMemoryReady(region.name, region.size, withdrawn.signal), ended]);
    } finally {
      clearTimeout(timer);
      plugin.off('cancelled', onCancelled);
    }
    return { success: true, error_message: '', result: Buffer.from('true'), error_code: 'OK' };
  }

  private subscribeEvents(call: ServerDuplexStream<PluginEventAck, PluginEvent>): void {
    if (!this.admitStream('SubscribeEvents', call, this.eventStreams)) return;
    const feed = new EventFeed<PluginEvent>({
      send: (event) => call.write(event),
      window: EVENT_WINDOW,
      capacity: EVENT_BUFFER,
      onDrop: () => this.options.metrics.eventsDropped.inc(this.labels),
    });
    const unwatch = this.options.upstream.watchEvents(
      this.options.identity.tenant,
      (event) => {
        if (this.mayReceive(event)) feed.push(event);
      },
      (err) => {
        this.log.warn({ err }, 'upstream event stream failed');
        call.emit(
          'error',
          toGrpcStatus(new SandboxError('INTERNAL_ERROR', 'event stream from the host failed; subscribe again')),
        );
      },
    );
    call.on('data', () => feed.ack());
    this.onStreamClosed(call, this.eventStreams, { closed: unwatch, ended: () => call.end() });
  }

  /**
   * Admits a new stream: its session token, and room under its kind's limit; the decision is
   * audited. A stream refused ends with the reason, and false is returned.
   */
  private admitStream(rpc: string, stream: ServerDuplexStream<unknown, unknown>, count: StreamCount): boolean {
    const started = performance.now();
    try {
      this.authenticate(tokenFromMetadata(stream.metadata));
      if (count.open >= count.max) {
        throw new SandboxError(
          'RATE_LIMIT_EXCEEDED',
          `${this.options.manifest.id} already has ${count.open} ${count.kind} open, the maximum; close one first`,
        );
      }
    } catch (err) {
      const failure = asSandboxError(err, rpc);
      this.decided(rpc, failure.code, started, failure.message);
      stream.emit('error', toGrpcStatus(failure));
      return false;
    }
    this.decided(rpc, 'OK', started);
    count.open++;
    count.gauge.inc();
    return true;
  }

  /**
   * Counts an admitted stream out, and runs `closed`, once it ends however it ends; `ended` runs
   * too when the plugin half-closed it.
   */
  private onStreamClosed(
    stream: ServerDuplexStream<unknown, unknown>,
    count: StreamCount,
    on: { closed: () => void; ended: () => void },
  ): void {
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      count.open--;
      count.gauge.dec();
      on.closed();
    };
    stream.on('end', () => {
      close();
      on.ended();
    });
    stream.on('cancelled', close);
    stream.on('error', close);
  }

  /**
   * A system event needs the permission for its data; a plugin's event must lie in its source's
   * namespace (an upstream host that forgot to namespace it does not get it delivered).
   */
  private mayReceive(event: PluginEvent): boolean {
    if (event.source_plugin_id !== SYSTEM_SOURCE) return isInNamespaceOf(event.source_plugin_id, event.event_name);
    const needed = SYSTEM_EVENT_PERMISSIONS[event.event_name];
    return needed !== undefined && this.options.granted.has(needed);
  }

  /** A call's own deadline (epoch ms), capped at maxDeadlineMs from now; the cap when it set none (0 or Infinity). */
  private capped(ownMs: number): number {
    const cap = Date.now() + this.options.limits.maxDeadlineMs;
    return Number.isFinite(ownMs) && ownMs > 0 ? Math.min(ownMs, cap) : cap;
  }

  private authenticate(token: string | undefined): void {
    const known = this.verified;
    if (known !== undefined && token === known.token && Date.now() < known.expiresAtMs) return;
    const expiresAtMs = this.options.tokens.verify(token, this.options.identity);
    this.verified = { token: token as string, expiresAtMs };
  }

  /** The labelled metric series of (api, code), looked up once rather than on every call. */
  private series(api: string, code: string): DecisionSeries {
    const key = `${api}\u0000${code}`;
    let found = this.seriesCache.get(key);
    if (!found) {
      const { metrics } = this.options;
      const { tenant, plugin } = this.labels;
      found = {
        calls: metrics.calls.labels(tenant, plugin, api, code),
        latency: metrics.latency.labels(tenant, plugin, api),
        denials: code === 'OK' ? undefined : metrics.denials.labels(tenant, plugin, code),
      };
      this.seriesCache.set(key, found);
    }
    return found;
  }

  /** Audit record and metrics of one decision, taken after the answer is on its way (off the call's latency). */
  private decided(api: string, code: string, started: number, reason?: string): void {
    const latencyMs = performance.now() - started;
    if (code === 'INTERNAL_ERROR') this.log.error({ apiName: api, reason }, 'call failed');
    const { identity } = this.options;
    const series = this.series(api, code);
    series.calls.inc();
    series.latency.observe(latencyMs / 1_000);
    series.denials?.inc();
    if (code === 'RATE_LIMIT_EXCEEDED') this.options.metrics.rateLimited.inc(this.labels);
    this.options.audit({
      tenant: identity.tenant,
      pluginId: identity.pluginId,
      instanceId: identity.instanceId,
      api,
      decision: code === 'OK' ? 'allowed' : 'denied',
      code,
      latencyMs: Math.round(latencyMs * 1000) / 1000,
      ...(reason ? { reason } : {}),
    });
  }
}

const EMPTY = Buffer.alloc(0);
const NO_REQUEST: PluginApiRequest = { api_name: '', payload: EMPTY, metadata: {} };

/** A refused or failed call's answer: what a client built from the specification's proto decodes. */
function failedResponse(failure: SandboxError): PluginApiResponse {
  return {
    success: false,
    error_message: refusalText(failure.code, failure.message),
    result: EMPTY,
    error_code: failure.code,
  };
}

/** The response of a unary RPC refused before its handler ran (by limitMetadata); undefined for the streams. */
function refusedBeforeHandler(
  rpc: string,
  failure: SandboxError,
): PluginApiResponse | PluginRegisterResponse | undefined {
  if (rpc === 'CallApi') return failedResponse(failure);
  return rpc === 'Register' ? failedRegistration(failure) : undefined;
}

/** A refused Register's answer: what a client built from the specification's proto decodes. */
function failedRegistration(failure: SandboxError): PluginRegisterResponse {
  const message = refusalText(failure.code, failure.message);
  return { success: false, message, session_token: '', error_code: failure.code, token_expires_at_ms: 0 };
}

function tokenFromMetadata(metadata: Metadata): string | undefined {
  const value = metadata.get(TOKEN_METADATA_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

/** The deadline a plugin set on its call (epoch ms; Infinity when none). */
function ownDeadline(call: ServerUnaryCall<unknown, unknown>): number {
  const own = call.getDeadline();
  return own instanceof Date ? own.getTime() : own;
}
