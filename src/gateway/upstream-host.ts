import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError, isServiceError } from '../errors/index.ts';
import { loadProtocol, type HostApiRequest, type PluginApiResponse, type PluginEvent } from '../protocol/index.ts';

type HostClient = Client & {
  Invoke(
    request: HostApiRequest,
    metadata: Metadata,
    options: { deadline: number },
    callback: (err: ServiceError | null, response?: PluginApiResponse) => void,
  ): { cancel(): void };
  WatchEvents(request: { tenant: string }): ClientReadableStream<PluginEvent>;
};

export interface UpstreamTls {
  ca: string;
  cert?: string | undefined;
  key?: string | undefined;
  serverName?: string | undefined;
}

/** The host the gateway forwards allowed calls to: one gRPC channel shared by every gateway. */
export class UpstreamHost {
  private readonly client: HostClient;
  readonly address: string;

  /** `address`: `unix:///path/host.sock` or `HOST:PORT`; with `tls`, over TLS (mutual when a client certificate is given). */
  constructor(address: string, tls?: UpstreamTls) {
    this.address = address;
    const { HostService } = loadProtocol();
    const creds = tls
      ? credentials.createSsl(
          readFileSync(tls.ca),
          tls.key ? readFileSync(tls.key) : null,
          tls.cert ? readFileSync(tls.cert) : null,
        )
      : credentials.createInsecure();
    const options = tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {};
    this.client = new HostService(address, creds, options) as unknown as HostClient;
  }

  /**
   * Forwards one call. When `plugin` (the plugin's call) emits 'cancelled' before the answer is
   * in, the upstream call is cancelled too. (A listener rather than an AbortSignal: grpc-js emits
   * 'cancelled' as every call closes, and aborting builds a DOMException each time.)
   */
  invoke(request: HostApiRequest, deadlineMs: number, plugin?: EventEmitter): Promise<PluginApiResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.Invoke(request, new Metadata(), { deadline: deadlineMs }, (err, response) => {
        plugin?.off('cancelled', cancel);
        if (err) return reject(isServiceError(err) ? fromGrpcError(err, request.api_name) : err);
        return resolve(response as PluginApiResponse);
      });
      const cancel = () => call.cancel();
      plugin?.once('cancelled', cancel);
    });
  }

  watchEvents(tenant: string): ClientReadableStream<PluginEvent> {
    return this.client.WatchEvents({ tenant });
  }

  close(): void {
    this.client.close();
  }
}
