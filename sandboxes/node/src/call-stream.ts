import { Metadata, status as GrpcStatus, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { tokenMetadata, type GatewayClient } from './gateway-client.ts';
import type { ApiCall, ApiRequest, ApiResponse, ApiResult } from './protocol.ts';

interface Waiting {
  request: ApiRequest;
  deadlineMs: number;
  resolve: (response: ApiResponse) => void;
  reject: (err: ServiceError) => void;
  timer: NodeJS.Timeout;
}

/** The gateway answers every call by its deadline; this much later, the SDK stops waiting for it. */
const ANSWER_GRACE_MS = 1_000;
const LAST_ID = 0xffff_ffff;

/**
 * The plugin's host API calls, many on one CallStream to the gateway: a call costs a message each
 * way instead of an HTTP/2 stream of its own. The stream is opened with the first call, and again
 * after it fails; a gateway that does not offer CallStream (UNIMPLEMENTED) is called with CallApi.
 */
export class CallStream {
  private readonly client: GatewayClient;
  private readonly token: () => string;
  private stream: ClientDuplexStream<ApiCall, ApiResult> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private lastId = 0;
  private unsupported = false;

  constructor(client: GatewayClient, token: () => string) {
    this.client = client;
    this.token = token;
  }

  /** Sends one call; resolves with the gateway's answer, or rejects as a failed CallApi would. */
  call(request: ApiRequest, deadlineMs: number): Promise<ApiResponse> {
    if (this.unsupported) return this.callApi(request, deadlineMs);
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      const timer = setTimeout(
        () => this.settle(id)?.reject(failure(GrpcStatus.DEADLINE_EXCEEDED, 'the gateway did not answer in time')),
        Math.max(0, deadlineMs - Date.now()) + ANSWER_GRACE_MS,
      );
      this.waiting.set(id, { request, deadlineMs, resolve, reject, timer });
      this.connected().write({ id, request, deadline_ms: deadlineMs });
    });
  }

  /** Ends the stream; calls still waiting fail. */
  close(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
    this.failAll(failure(GrpcStatus.CANCELLED, 'the plugin is shutting down'));
  }

  private connected(): ClientDuplexStream<ApiCall, ApiResult> {
    if (this.stream) return this.stream;
    const stream = this.client.CallStream(tokenMetadata(this.token()));
    stream.on('data', ({ id, response }: ApiResult) => {
      const entry = this.settle(id);
      if (response) entry?.resolve(response);
      else entry?.reject(failure(GrpcStatus.INTERNAL, `the gateway answered call ${id} without a response`));
    });
    stream.on('error', (err: ServiceError) => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (err.code !== GrpcStatus.UNIMPLEMENTED) return this.failAll(err);
      // A gateway without CallStream: the calls waiting, and every call after, go by CallApi.
      this.unsupported = true;
      for (const id of [...this.waiting.keys()]) {
        const entry = this.settle(id);
        if (entry) this.callApi(entry.request, entry.deadlineMs).then(entry.resolve, entry.reject);
      }
    });
    this.stream = stream;
    return stream;
  }

  private callApi(request: ApiRequest, deadlineMs: number): Promise<ApiResponse> {
    return new Promise((resolve, reject) =>
      this.client.CallApi(request, new Metadata(), { deadline: deadlineMs }, (err, response) =>
        err ? reject(err) : resolve(response as ApiResponse),
      ),
    );
  }

  private settle(id: number): Waiting | undefined {
    const entry = this.waiting.get(id);
    if (!entry) return undefined;
    this.waiting.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }

  private failAll(err: ServiceError): void {
    for (const id of [...this.waiting.keys()]) this.settle(id)?.reject(err);
  }

  private nextId(): number {
    this.lastId = this.lastId === LAST_ID ? 1 : this.lastId + 1;
    return this.lastId;
  }
}

function failure(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}
