import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError, refusalFromResponse } from '../errors/index.ts';
import {
  loadProtocol,
  type LifecycleAction,
  type PluginApiRequest,
  type PluginApiResponse,
  type PluginLifecycleRequest,
  type PluginLifecycleResponse,
} from '../protocol/index.ts';

/** Largest result the host accepts from a plugin's function (large data should use shared memory). */
const MAX_RESULT_BYTES = 64 * 1024 * 1024;

type Callback<T> = (err: ServiceError | null, response?: T) => void;
type PluginServiceClient = Client & {
  Lifecycle(
    request: PluginLifecycleRequest,
    metadata: Metadata,
    options: { deadline: number },
    callback: Callback<PluginLifecycleResponse>,
  ): void;
  CallApi(
    request: PluginApiRequest,
    metadata: Metadata,
    options: { deadline: number },
    callback: Callback<PluginApiResponse>,
  ): void;
};

/**
 * The host's client of one plugin: Lifecycle and the plugin's exported functions, on plugin.sock.
 * A plugin reports a failure as a response with success false (or, from an older SDK, as a gRPC
 * status); either way the promise rejects with a SandboxError carrying the plugin's code.
 */
export class PluginClient {
  private readonly client: PluginServiceClient;
  private readonly pluginId: string;

  constructor(socketPath: string, pluginId: string) {
    const { PluginService } = loadProtocol();
    this.client = new PluginService(`unix://${socketPath}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RESULT_BYTES,
      // The address is /proc/self/fd/N of a pinned socket, and fd numbers are reused: a channel of
      // its own never shares a pooled connection with another instance that later gets N.
      'grpc.use_local_subchannel_pool': 1,
    }) as unknown as PluginServiceClient;
    this.pluginId = pluginId;
  }

  lifecycle(
    action: LifecycleAction,
    timeoutMs: number,
    stateData: Buffer = Buffer.alloc(0),
  ): Promise<PluginLifecycleResponse> {
    return new Promise((resolve, reject) =>
      this.client.Lifecycle(
        { action, state_data: stateData },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          const context = `${this.pluginId} Lifecycle ${action}`;
          if (err) return reject(fromGrpcError(err, context));
          const answer = response as PluginLifecycleResponse;
          if (!answer.success) return reject(refusalFromResponse(answer, answer.message, context));
          return resolve(answer);
        },
      ),
    );
  }

  /** Calls a function the plugin exports, JSON in and out. */
  callFunction(name: string, payload: Buffer, timeoutMs: number): Promise<PluginApiResponse> {
    return new Promise((resolve, reject) =>
      this.client.CallApi(
        { api_name: name, payload, metadata: {} },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          const context = `${this.pluginId}.${name}`;
          if (err) return reject(fromGrpcError(err, context));
          const answer = response as PluginApiResponse;
          if (!answer.success) return reject(refusalFromResponse(answer, answer.error_message, context));
          return resolve(answer);
        },
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
