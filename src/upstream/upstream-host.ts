import { readFileSync } from 'node:fs';
import {
  credentials,
  status as GrpcStatus,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
} from '@grpc/grpc-js';
import { loadProtocol, type HostCall, type HostResult, type PluginEvent } from '../protocol/index.ts';
import { UpstreamCalls } from './upstream-calls.ts';
import type { Upstream } from './upstream.ts';

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

/** A host the gateway reaches over gRPC: one channel shared by every gateway that calls it. */
export class UpstreamHost implements Upstream {
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

  watchEvents(tenant: string, onEvent: (event: PluginEvent) => void, onError: (err: Error) => void): () => void {
    const stream = this.client.WatchEvents({ tenant });
    stream.on('data', onEvent);
    stream.on('error', (err: Error & { code?: number }) => {
      if (err.code !== GrpcStatus.CANCELLED) onError(err);
    });
    return () => stream.cancel();
  }

  close(): void {
    this.client.close();
  }
}
