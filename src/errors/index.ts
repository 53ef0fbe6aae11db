export { ERROR_CODES, ERROR_CODE_METADATA_KEY, isPluginErrorCode, type PluginErrorCode } from './error-codes.ts';
export { SandboxError, asSandboxError } from './sandbox-error.ts';
export { toGrpcStatus, fromGrpcError } from './grpc-error.ts';
export { refusalFromResponse, refusalText } from './refusal.ts';
