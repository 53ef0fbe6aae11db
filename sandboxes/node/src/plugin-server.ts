import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { PluginApiError, refusalText, type PluginErrorCode } from './errors.ts';
import type { Plugin, PluginState } from './plugin.ts';
import {
  pluginService,
  type ApiRequest,
  type ApiResponse,
  type LifecycleRequest,
  type LifecycleResponse,
} from './protocol.ts';

const CLOSE_GRACE_MS = 2_000;

/**
 * What the plugin serves to the host on its own socket: Lifecycle (ENABLE, DISABLE, RELOAD,
 * SHUTDOWN) and CallApi for its exported functions. A failure is a response with success false,
 * its code in error_code and at the start of its message, as the gateway answers plugins.
 */
export class PluginServer {
  private readonly plugin: Plugin;
  private readonly server = new Server();
  private readonly onShutdown: () => void;

  constructor(plugin: Plugin, onShutdown: () => void) {
    this.plugin = plugin;
    this.onShutdown = onShutdown;
    this.server.addService(pluginService().service, {
      Lifecycle: this.lifecycle.bind(this),
      CallApi: this.callFunction.bind(this),
      Register: unimplemented('Register'),
      SubscribeEvents: unimplementedStream('SubscribeEvents'),
      CallStream: unimplementedStream('CallStream'),
    });
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /** Stops serving once calls in progress (such as the SHUTDOWN being answered) have finished. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, CLOSE_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private lifecycle(
    call: ServerUnaryCall<LifecycleRequest, LifecycleResponse>,
    callback: sendUnaryData<LifecycleResponse>,
  ): void {
    const { action, state_data: stateData } = call.request;
    this.runLifecycle(action, stateData).then(
      (saved) => {
        callback(null, { success: true, message: `${action} done`, saved_state: saved, error_code: 'OK' });
        if (action === 'SHUTDOWN') setImmediate(this.onShutdown);
      },
      (err: unknown) => {
        const code = err instanceof PluginApiError ? err.code : 'INTERNAL_ERROR';
        const message = refusalText(code, `${action} failed in the plugin: ${describe(err)}`);
        callback(null, { success: false, message, saved_state: Buffer.alloc(0), error_code: code });
      },
    );
  }

  private async runLifecycle(action: LifecycleRequest['action'], stateData: Buffer): Promise<Buffer> {
    switch (action) {
      case 'ENABLE':
        if (stateData.length > 0) await this.plugin.onRestore(JSON.parse(stateData.toString('utf8')) as PluginState);
        await this.plugin.onEnable();
        return Buffer.alloc(0);
      case 'DISABLE':
        await this.plugin.onDisable();
        return Buffer.alloc(0);
      case 'RELOAD':
        return Buffer.from(JSON.stringify(await this.plugin.onSave()));
      case 'SHUTDOWN':
        return Buffer.alloc(0);
    }
  }

  private callFunction(call: ServerUnaryCall<ApiRequest, ApiResponse>, callback: sendUnaryData<ApiResponse>): void {
    const { api_name: name, payload } = call.request;
    const fn = this.plugin.exportedFunction(name);
    if (!fn) return callback(null, failure('NOT_FOUND', `the plugin exports no function '${name}'`));
    let input: unknown;
    try {
      input = payload.length > 0 ? JSON.parse(payload.toString('utf8')) : null;
    } catch {
      return callback(null, failure('INVALID_REQUEST', `${name}: payload is not valid JSON`));
    }
    Promise.resolve()
      .then(() => fn(input))
      .then(
        (result) =>
          callback(null, {
            success: true,
            error_message: '',
            // Bytes go as they are (e.g. a frame); anything else as JSON.
            result:
              result instanceof Uint8Array
                ? Buffer.from(result.buffer, result.byteOffset, result.byteLength)
                : Buffer.from(JSON.stringify(result ?? null)),
            error_code: 'OK',
          }),
        (err: unknown) => {
          const code = err instanceof PluginApiError ? err.code : 'INTERNAL_ERROR';
          callback(null, failure(code, `${name} failed in the plugin: ${describe(err)}`));
        },
      );
  }
}

function failure(code: PluginErrorCode, message: string): ApiResponse {
  return { success: false, error_message: refusalText(code, message), result: Buffer.alloc(0), error_code: code };
}

function unimplemented(rpc: string) {
  return (_call: unknown, callback: sendUnaryData<never>) =>
    callback({ code: GrpcStatus.UNIMPLEMENTED, details: `${rpc} is served by the gateway, not by the plugin` });
}

function unimplementedStream(rpc: string) {
  return (call: { emit(event: 'error', err: object): void }) =>
    call.emit('error', {
      code: GrpcStatus.UNIMPLEMENTED,
      details: `${rpc} is served by the gateway, not by the plugin`,
    });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
