import { readFileSync } from 'node:fs';
import { credentials, type Client, type ClientDuplexStream, type ClientReadableStream } from '@grpc/grpc-js';
import { loadProtocol, type HostCall, type HostResult, type PluginEvent } from '../protocol/index.ts';
import { UpstreamCalls } from './upstream-calls.ts';

type HostClient = Client & {
  Calls(): ClientDuplexStream<HostCall, HostResult>;
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

  /** A stream of calls for one gateway; it shares this host's channel with every other gateway's. */
  openCalls(): UpstreamCalls {
    return new UpstreamCalls(() => this.client.Calls());
  }

  watchEvents(tenant: string): ClientReadableStream<PluginEvent> {
    return this.client.WatchEvents({ tenant });
  }

  close(): void {
    this.client.close();
  }
}
