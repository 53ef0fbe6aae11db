import { Metadata, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type {
  ApiCall,
  ApiRequest,
  ApiResponse,
  ApiResult,
  PluginEvent,
  RegisterRequest,
  RegisterResponse,
} from './protocol.ts';

/** The gateway's RPCs as the SDK calls them (the dynamic client typed). */
export type GatewayClient = Client & {
  Register(
    request: RegisterRequest,
    metadata: Metadata,
    options: { deadline: number },
    callback: (err: ServiceError | null, response?: RegisterResponse) => void,
  ): void;
  CallApi(
    request: ApiRequest,
    metadata: Metadata,
    options: { deadline: number },
    callback: (err: ServiceError | null, response?: ApiResponse) => void,
  ): void;
  CallStream(metadata: Metadata): ClientDuplexStream<ApiCall, ApiResult>;
  SubscribeEvents(metadata: Metadata): ClientDuplexStream<{ received: boolean }, PluginEvent>;
};

export const TOKEN_KEY = 'session_token';

export function tokenMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set(TOKEN_KEY, token);
  return metadata;
}
