import type { EventEmitter } from 'node:events';
import { isPluginErrorCode, SandboxError } from '../errors/index.ts';
import type { HostApiRequest, HostCall, HostResult, PluginApiResponse } from '../protocol/index.ts';

interface Pending {
  apiName: string;
  resolve: (response: PluginApiResponse) => void;
  reject: (err: SandboxError) => void;
  timer: NodeJS.Timeout;
  plugin: EventEmitter | undefined;
  onCancelled: () => void;
}

const LAST_ID = 0xffff_ffff;

/**
 * A way to the host for many calls, each answered by its id: a gRPC `Calls` stream
 * (classtop_host.proto), or the built-in host's channel in this process.
 */
export interface CallChannel {
  /** Sends a call, or withdraws one (`cancel`). */
  write(call: HostCall): unknown;
  end(): unknown;
  on(event: 'data', listener: (result: HostResult) => void): unknown;
  on(event: 'error', listener: (err: Error & { details?: string }) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/**
 * One gateway's calls to its upstream host, many on one channel: over gRPC, a call costs a
 * message each way rather than an HTTP/2 stream of its own. The channel is opened on the first
 * call and again after it fails. Deadlines and cancellation are kept here, per call: at either,
 * the call ends and the host is told to drop it.
 */
export class UpstreamCalls {
  private readonly open: () => CallChannel;
  private channel: CallChannel | undefined;
  private readonly pending = new Map<number, Pending>();
  private lastId = 0;
  private closed = false;

  constructor(open: () => CallChannel) {
    this.open = open;
  }

  /**
   * Forwards one call, to be answered by `deadlineMs` (epoch ms). When `plugin` (the plugin's own
   * call) emits 'cancelled' first, the call is withdrawn. (A listener rather than an AbortSignal:
   * grpc-js emits 'cancelled' as every call closes, and aborting builds a DOMException each time.)
   */
  invoke(request: HostApiRequest, deadlineMs: number, plugin?: EventEmitter): Promise<PluginApiResponse> {
    if (this.closed) {
      return Promise.reject(new SandboxError('INTERNAL_ERROR', `${request.api_name}: the gateway is closing`));
    }
    const apiName = request.api_name;
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      const waitMs = Math.max(0, deadlineMs - Date.now());
      const entry: Pending = {
        apiName,
        resolve,
        reject,
        plugin,
        timer: setTimeout(
          () =>
            this.withdraw(id, new SandboxError('TIMEOUT', `${apiName}: the host did not answer within ${waitMs} ms`)),
          waitMs,
        ),
        onCancelled: () => this.withdraw(id, new SandboxError('TIMEOUT', `${apiName}: cancelled by the plugin`)),
      };
      this.pending.set(id, entry);
      plugin?.once('cancelled', entry.onCancelled);
      try {
        this.connected().write({ id, request, deadline_ms: deadlineMs, cancel: false });
      } catch (err) {
        // grpc-js refuses a new stream once the channel is closed: end the call now, timer and all.
        this.settle(id);
        reject(unavailable(apiName, (err as Error).message));
      }
    });
  }

  /** Ends the channel; calls still waiting fail. */
  close(): void {
    this.closed = true;
    this.failAll('the gateway is closing');
    this.channel?.end();
    this.channel = undefined;
  }

  private connected(): CallChannel {
    if (this.channel) return this.channel;
    const channel = this.open();
    channel.on('data', (result: HostResult) => this.answered(result));
    const lost = (reason: string) => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.failAll(reason);
    };
    channel.on('error', (err: Error & { details?: string }) => lost(err.details || err.message));
    channel.on('end', () => lost('the host ended the call stream'));
    this.channel = channel;
    return channel;
  }

  private answered({ id, response }: HostResult): void {
    const entry = this.settle(id);
    if (!entry) return; // withdrawn: its answer is not waited for any more
    if (response?.success) return entry.resolve(response);
    const stated = response?.error_code;
    const code = isPluginErrorCode(stated) && stated !== 'OK' ? stated : 'INTERNAL_ERROR';
    entry.reject(
      new SandboxError(code, response?.error_message || `${entry.apiName}: the host answered with no result`),
    );
  }

  /** Ends the call `id` with `err` and tells the host to drop it. */
  private withdraw(id: number, err: SandboxError): void {
    const entry = this.settle(id);
    if (!entry) return;
    entry.reject(err);
    this.channel?.write({ id, request: null, deadline_ms: 0, cancel: true });
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.plugin?.off('cancelled', entry.onCancelled);
    return entry;
  }

  private failAll(reason: string): void {
    for (const id of [...this.pending.keys()]) {
      const entry = this.settle(id);
      entry?.reject(unavailable(entry.apiName, reason));
    }
  }

  private nextId(): number {
    this.lastId = this.lastId === LAST_ID ? 1 : this.lastId + 1;
    return this.lastId;
  }
}

function unavailable(apiName: string, reason: string): SandboxError {
  return new SandboxError('INTERNAL_ERROR', `${apiName}: upstream host unavailable: ${reason}`);
}
