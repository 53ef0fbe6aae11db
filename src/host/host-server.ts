import { EventEmitter } from 'node:events';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import { asSandboxError, SandboxError, toGrpcStatus } from '../errors/index.ts';
import { findHostApi, parsePayload } from '../host-api/index.ts';
import type { Logger } from '../logging/index.ts';
import {
  loadProtocol,
  shutdownServer,
  type HostApiRequest,
  type HostCall,
  type HostResult,
  type PluginApiResponse,
  type PluginEvent,
  type WatchEventsRequest,
} from '../protocol/index.ts';
import type { CallChannel, LocalHost } from '../upstream/index.ts';
import { CourseStore } from './courses.ts';
import { EventBus, type HostEvent } from './event-bus.ts';
import { HOST_API_HANDLERS, type HostStores } from './host-api-handlers.ts';
import { PluginDataStore, SettingsStore } from './key-value-store.ts';
import { ScheduleStore } from './schedule.ts';

const SHUTDOWN_GRACE_MS = 2_000;
const EMPTY = Buffer.alloc(0);

/**
 * The built-in reference ClassTop host: serves `ClassTopHostService` (the upstream contract) on a
 * unix socket or loopback address, with its data on Redis; gateways in its own process reach it
 * without gRPC (a LocalHost).
 */
export class HostServer implements LocalHost {
  private readonly server = new Server();
  private readonly stores: HostStores;
  private readonly events: EventBus;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(redis: Redis, log: Logger) {
    this.log = log.child({ component: 'host' });
    this.events = new EventBus(redis, this.log);
    this.stores = {
      courses: new CourseStore(redis),
      schedule: new ScheduleStore(redis),
      settings: new SettingsStore(redis),
      pluginData: new PluginDataStore(redis),
      events: this.events,
      log: this.log,
    };
    this.server.addService(loadProtocol().HostService.service, {
      Calls: this.serveCalls.bind(this),
      Invoke: this.serveInvoke.bind(this),
      WatchEvents: this.serveWatchEvents.bind(this),
    });
  }

  /**
   * Starts serving on `address` (`unix:///path` or `HOST:PORT`); with `tls`, over TLS, asking
   * gateways for a client certificate signed by `tls.clientCa` when given. Returns the port.
   */
  async listen(address: string, tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer }): Promise<number> {
    await this.events.start();
    const creds = tls
      ? ServerCredentials.createSsl(
          tls.clientCa ?? null,
          [{ cert_chain: tls.cert, private_key: tls.key }],
          Boolean(tls.clientCa),
        )
      : ServerCredentials.createInsecure();
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, creds, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.log.info({ address, port, tls: Boolean(tls) }, 'host listening');
    return port;
  }

  close(): Promise<void> {
    this.closing ??= shutdownServer(this.server, SHUTDOWN_GRACE_MS).then(() => this.events.stop());
    return this.closing;
  }

  /**
   * A channel for the calls of a gateway in this process, as the `Calls` stream is for a gateway
   * over gRPC: each call is answered with a 'data' event as soon as it is done.
   */
  openCalls(): CallChannel {
    const channel = new EventEmitter();
    return Object.assign(channel, {
      write: (call: HostCall) => this.answer(call, (result) => channel.emit('data', result)),
      end: () => channel.emit('end'),
    });
  }

  /** Calls `onEvent` with each event of `tenant`, as WatchEvents streams them; returns the function that stops it. */
  watchEvents(tenant: string, onEvent: (event: PluginEvent) => void): () => void {
    return this.events.watch(tenant, (event: HostEvent) =>
      onEvent({ ...event, event_data: Buffer.from(event.event_data) }),
    );
  }

  /** The gateway's call stream: each call is answered on the stream as soon as it is done. */
  private serveCalls(stream: ServerDuplexStream<HostCall, HostResult>): void {
    stream.on('data', (call: HostCall) => this.answer(call, (result) => !stream.cancelled && stream.write(result)));
    stream.on('end', () => stream.end());
  }

  /**
   * Runs one call and sends its result. A withdrawn call (`cancel`) is not stopped: the handlers
   * are short Redis operations, and the gateway drops an answer it no longer waits for.
   */
  private answer({ id, request, cancel }: HostCall, send: (result: HostResult) => void): void {
    if (cancel || !request) return;
    void this.run(request).then(
      (response) => send({ id, response }),
      (err: unknown) => {
        const failure = this.failed(err, request);
        send({
          id,
          response: { success: false, error_message: failure.message, result: EMPTY, error_code: failure.code },
        });
      },
    );
  }

  private serveInvoke(
    call: ServerUnaryCall<HostApiRequest, PluginApiResponse>,
    callback: sendUnaryData<PluginApiResponse>,
  ): void {
    void this.run(call.request).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcStatus(this.failed(err, call.request))),
    );
  }

  private async run(request: HostApiRequest): Promise<PluginApiResponse> {
    const { tenant, plugin_id: pluginId, instance_id: instanceId, api_name: apiName, payload } = request;
    if (!tenant || !pluginId) throw new SandboxError('INVALID_REQUEST', 'tenant and plugin_id are required');
    const api = findHostApi(apiName);
    const handler = api && HOST_API_HANDLERS[apiName as keyof typeof HOST_API_HANDLERS];
    if (!api || !handler) throw new SandboxError('NOT_FOUND', `unknown host API '${apiName}'`);
    const result = await handler({ tenant, pluginId, instanceId }, parsePayload(apiName, api, payload), this.stores);
    return { success: true, error_message: '', result: Buffer.from(JSON.stringify(result ?? null)), error_code: 'OK' };
  }

  /** The failure of `request` as a SandboxError, logged when it is the host's own fault. */
  private failed(err: unknown, request: HostApiRequest): SandboxError {
    const failure = asSandboxError(err, `${request.api_name} failed`);
    if (failure.code === 'INTERNAL_ERROR') {
      const { tenant, plugin_id: pluginId, api_name: apiName } = request;
      this.log.error({ err, tenant, pluginId, apiName }, 'host call failed');
    }
    return failure;
  }

  private serveWatchEvents(call: ServerWritableStream<WatchEventsRequest, PluginEvent>): void {
    const { tenant } = call.request;
    if (!tenant) {
      call.emit('error', toGrpcStatus(new SandboxError('INVALID_REQUEST', 'WatchEvents: tenant is required')));
      return;
    }
    const unwatch = this.watchEvents(tenant, (event) => call.write(event));
    call.on('cancelled', unwatch);
    call.on('close', unwatch);
  }
}
