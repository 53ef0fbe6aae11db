import type { ServerDuplexStream } from '@grpc/grpc-js';
import { toGrpcStatus } from '../errors/index.ts';
import type { SandboxMetrics } from '../metrics/index.ts';
import { admitStream, type SessionCheck, type StreamSlots } from './admission.ts';
import { tokenFromMetadata } from './call-metadata.ts';
import type { DecisionRecorder } from './decision-recorder.ts';

type Gauge = ReturnType<SandboxMetrics['activeStreams']['labels']>;
type AnyStream = ServerDuplexStream<unknown, unknown>;

export interface OpenStreamsOptions {
  /** The RPC whose streams these are: SubscribeEvents, CallStream. */
  rpc: string;
  max: number;
  /** What refusals call them: 'call streams', 'event streams'. */
  kind: string;
  pluginId: string;
  gauge: Gauge;
  session: SessionCheck;
  decisions: DecisionRecorder;
}

/** The open streams of one RPC on one gateway: each admitted, counted in and out, and gauged. */
export class OpenStreams implements StreamSlots {
  open = 0;
  readonly max: number;
  readonly kind: string;
  private readonly options: OpenStreamsOptions;

  constructor(options: OpenStreamsOptions) {
    this.options = options;
    this.max = options.max;
    this.kind = options.kind;
  }

  /**
   * Admits a new stream (its session token, room under the limit) and records the decision. A
   * stream refused ends with the reason as its gRPC status, and false is returned.
   */
  admit(stream: AnyStream): boolean {
    const started = performance.now();
    const { rpc, pluginId, session, decisions } = this.options;
    const failure = admitStream(rpc, tokenFromMetadata(stream.metadata), pluginId, session, this);
    if (failure) {
      decisions.decided(rpc, failure.code, started, failure.message);
      stream.emit('error', toGrpcStatus(failure));
      return false;
    }
    decisions.decided(rpc, 'OK', started);
    this.open++;
    this.options.gauge.inc();
    return true;
  }

  /**
   * Counts an admitted stream out, and runs `closed`, once it ends however it ends; `ended` runs
   * too when the plugin half-closed it.
   */
  onClosed(stream: AnyStream, on: { closed: () => void; ended: () => void }): void {
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      this.open--;
      this.options.gauge.dec();
      on.closed();
    };
    stream.on('end', () => {
      close();
      on.ended();
    });
    stream.on('cancelled', close);
    stream.on('error', close);
  }
}
