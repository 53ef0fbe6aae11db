import { credentials, Metadata, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODE_METADATA_KEY } from '../../src/errors/index.ts';
import {
  loadProtocol,
  type PluginApiCall,
  type PluginApiResponse,
  type PluginApiResult,
  type PluginRegisterResponse,
} from '../../src/protocol/index.ts';
import { EXAMPLE_TRUST } from './test-orchestrator.ts';

type Callback<T> = (err: ServiceError | null, response?: T) => void;
type RawClient = Client & {
  CallStream(metadata: Metadata): ClientDuplexStream<PluginApiCall, PluginApiResult>;
  SubscribeEvents(metadata: Metadata): ClientDuplexStream<object, { event_name: string }>;
  Lifecycle(request: object, metadata: Metadata, options: object, callback: Callback<unknown>): void;
  Register(request: object, metadata: Metadata, options: object, callback: Callback<PluginRegisterResponse>): void;
  CallApi(
    request: object,
    metadata: Metadata,
    options: object,
    callback: Callback<PluginApiResponse>,
  ): { cancel(): void };
};

/** The outcome of one call: the PluginErrorCode (OK on success), message and JSON result. */
export interface CallOutcome {
  code: string;
  grpcStatus: number;
  message: string;
  result: unknown;
}

const DEADLINE_MS = 10_000;
/** The developer certificate the examples are signed with: what their Register presents. */
export const EXAMPLE_CERTIFICATE_PATH = path.join(EXAMPLE_TRUST, 'developer/developer.pem');
export const EXAMPLE_CERTIFICATE = readFileSync(EXAMPLE_CERTIFICATE_PATH);

/**
 * Talks to a gateway's unix socket from the test process, as a plugin would (real gRPC, generated
 * from the same proto), to try what a well-behaved plugin never does: forged tokens and the like.
 */
export class TestGatewayClient {
  private readonly client: RawClient;

  constructor(socketPath: string) {
    const { PluginService } = loadProtocol();
    this.client = new PluginService(`unix://${socketPath}`, credentials.createInsecure()) as unknown as RawClient;
  }

  register(
    pluginId: string,
    version: string,
    permissions: string[] = [],
    certificate: Buffer = EXAMPLE_CERTIFICATE,
    headers: Record<string, string> = {},
    sdkProtocolVersion = '',
  ): Promise<CallOutcome & { token: string }> {
    const request = {
      plugin_id: pluginId,
      plugin_name: pluginId,
      version,
      permissions,
      certificate,
      sdk_protocol_version: sdkProtocolVersion,
    };
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    return new Promise((resolve) =>
      this.client.Register(request, metadata, { deadline: Date.now() + DEADLINE_MS }, (err, response) =>
        resolve({
          ...outcome(err, response && { ...response, error_message: response.message, result: Buffer.alloc(0) }),
          token: response?.session_token ?? '',
        }),
      ),
    );
  }

  callApi(apiName: string, payload: unknown, token: string | undefined): Promise<CallOutcome> {
    return this.startCall(apiName, payload, token).outcome;
  }

  /** Starts a CallApi that can be cancelled before it ends; `headers` go as its gRPC metadata. */
  startCall(
    apiName: string,
    payload: unknown,
    token: string | undefined,
    deadlineMs = DEADLINE_MS,
    headers: Record<string, string> = {},
  ): { outcome: Promise<CallOutcome>; cancel: () => void } {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const request = {
      api_name: apiName,
      payload: Buffer.from(body),
      metadata: token === undefined ? {} : { session_token: token },
    };
    let call: { cancel(): void } | undefined;
    const ended = new Promise<CallOutcome>((resolve) => {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
      call = this.client.CallApi(request, metadata, { deadline: Date.now() + deadlineMs }, (err, response) =>
        resolve(outcome(err, response)),
      );
    });
    return { outcome: ended, cancel: () => call?.cancel() };
  }

  /**
   * Opens a CallStream with `token` in its metadata: `call` sends one call on it (with
   * `callToken`, the stream's token by default) and resolves with its answer, matched by id;
   * `ended` resolves with how the stream ended.
   */
  callStream(token: string | undefined): {
    call: (apiName: string, payload: unknown, callToken?: string) => Promise<CallOutcome>;
    ended: Promise<CallOutcome>;
    close: () => void;
  } {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('session_token', token);
    const stream = this.client.CallStream(metadata);
    const waiting = new Map<number, (response: PluginApiResponse) => void>();
    stream.on('data', ({ id, response }: PluginApiResult) => response && waiting.get(id)?.(response));
    const ended = new Promise<CallOutcome>((resolve) => {
      stream.on('error', (err: ServiceError) => resolve(outcome(err, undefined)));
      stream.on('end', () => resolve({ code: 'OK', grpcStatus: 0, message: 'ended', result: null }));
    });
    let lastId = 0;
    const call = (apiName: string, payload: unknown, callToken = token) => {
      const id = ++lastId;
      const request = {
        api_name: apiName,
        payload: Buffer.from(JSON.stringify(payload)),
        metadata: callToken === undefined ? {} : ({ session_token: callToken } as Record<string, string>),
      };
      return new Promise<CallOutcome>((resolve) => {
        waiting.set(id, (response) => {
          waiting.delete(id);
          resolve({
            code: response.error_code,
            grpcStatus: -1,
            message: response.error_message,
            result:
              response.success && response.result.length > 0 ? JSON.parse(response.result.toString('utf8')) : null,
          });
        });
        stream.write({ id, request, deadline_ms: Date.now() + DEADLINE_MS });
      });
    };
    return { call, ended, close: () => stream.cancel() };
  }

  /** Opens SubscribeEvents and reports how it ended, or the first event's name, or that `waitMs` passed. */
  subscribeOnce(token: string | undefined, waitMs = DEADLINE_MS): Promise<CallOutcome> {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('session_token', token);
    const stream = this.client.SubscribeEvents(metadata);
    return new Promise((resolve) => {
      // Bounded: a stream that neither fails nor delivers is reported, and closed, after waitMs.
      const timer = setTimeout(() => {
        resolve({ code: 'STREAM_LEFT_OPEN', grpcStatus: -1, message: `no event within ${waitMs} ms`, result: null });
        stream.cancel();
      }, waitMs);
      stream.on('data', (event) => {
        clearTimeout(timer);
        resolve({ code: 'OK', grpcStatus: 0, message: '', result: event.event_name });
        stream.cancel();
      });
      stream.on('error', (err: ServiceError) => {
        clearTimeout(timer);
        resolve(outcome(err, undefined));
      });
    });
  }

  /** An open SubscribeEvents stream that records event names, acknowledging each one or none. */
  subscribe(token: string, acknowledge: boolean): { names: string[]; ended: Promise<CallOutcome>; close: () => void } {
    const metadata = new Metadata();
    metadata.set('session_token', token);
    const stream = this.client.SubscribeEvents(metadata);
    const names: string[] = [];
    stream.on('data', (event) => {
      names.push(event.event_name);
      if (acknowledge) stream.write({ received: true });
    });
    const ended = new Promise<CallOutcome>((resolve) =>
      stream.on('error', (err: ServiceError) => resolve(outcome(err, undefined))),
    );
    return { names, ended, close: () => stream.cancel() };
  }

  lifecycle(): Promise<CallOutcome> {
    return new Promise((resolve) =>
      this.client.Lifecycle({ action: 'ENABLE' }, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err) =>
        resolve(outcome(err, undefined)),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

/**
 * A call's outcome: a gRPC error (a refused stream, or the transport's refusal) or a response,
 * whose refusal (success false) has its code in error_code and at the start of its message.
 */
function outcome(
  err: ServiceError | null,
  response: Pick<PluginApiResponse, 'success' | 'error_message' | 'result' | 'error_code'> | undefined,
): CallOutcome {
  if (err) {
    const code = err.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
    return {
      code: typeof code === 'string' ? code : 'NONE',
      grpcStatus: err.code,
      message: err.details,
      result: undefined,
    };
  }
  if (response && !response.success) {
    return { code: response.error_code, grpcStatus: 0, message: response.error_message, result: undefined };
  }
  const result = response?.result;
  return {
    code: 'OK',
    grpcStatus: 0,
    message: '',
    result: result && result.length > 0 ? JSON.parse(result.toString('utf8')) : null,
  };
}
