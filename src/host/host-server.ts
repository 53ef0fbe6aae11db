import {
  Server,
  ServerCredentials,
  type sendUnaryData,
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
  type PluginApiResponse,
  type PluginEvent,
  type WatchEventsRequest,
} from '../protocol/index.ts';
import { CourseStore } from './courses.ts';
import { EventBus, type HostEvent } from './event-bus.ts';
import { HOST_API_HANDLERS, type HostStores } from './host-api-handlers.ts';
import { PluginDataStore, SettingsStore } from './key-value-store.ts';
import { ScheduleStore } from './schedule.ts';

const SHUTDOWN_GRACE_MS = 2_000;

/**
 * The built-in reference ClassTop host: serves `ClassTopHostService` (the upstream contract) on a
 * unix socket or loopback address, with its data on Redis.
 */
export class HostServer {
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
      Invoke: this.invoke.bind(this),
      WatchEvents: this.watchEvents.bind(this),
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

  private invoke(
    call: ServerUnaryCall<HostApiRequest, PluginApiResponse>,
    callback: sendUnaryData<PluginApiResponse>,
  ): void {
    const { tenant, plugin_id: pluginId, instance_id: instanceId, api_name: apiName, payload } = call.request;
    void this.handle(apiName, payload, { tenant, pluginId, instanceId }).then(
      (result) =>
        callback(null, {
          success: true,
          error_message: '',
          result: Buffer.from(JSON.stringify(result ?? null)),
          error_code: 'OK',
        }),
      (err: unknown) => {
        const failure = asSandboxError(err, `${apiName} failed`);
        if (failure.code === 'INTERNAL_ERROR') this.log.error({ err, tenant, pluginId, apiName }, 'host call failed');
        callback(toGrpcStatus(failure));
      },
    );
  }

  private async handle(
    apiName: string,
    payload: Buffer,
    ctx: { tenant: string; pluginId: string; instanceId: string },
  ): Promise<unknown> {
    if (!ctx.tenant || !ctx.pluginId) throw new SandboxError('INVALID_REQUEST', 'tenant and plugin_id are required');
    const api = findHostApi(apiName);
    const handler = api && HOST_API_HANDLERS[apiName as keyof typeof HOST_API_HANDLERS];
    if (!api || !handler) throw new SandboxError('NOT_FOUND', `unknown host API '${apiName}'`);
    return handler(ctx, parsePayload(apiName, api, payload), this.stores);
  }

  private watchEvents(call: ServerWritableStream<WatchEventsRequest, PluginEvent>): void {
    const { tenant } = call.request;
    if (!tenant) {
      call.emit('error', toGrpcStatus(new SandboxError('INVALID_REQUEST', 'WatchEvents: tenant is required')));
      return;
    }
    const unwatch = this.events.watch(tenant, (event: HostEvent) => {
      call.write({ ...event, event_data: Buffer.from(event.event_data) });
    });
    call.on('cancelled', unwatch);
    call.on('close', unwatch);
  }
}
