import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { SandboxError } from '../errors/index.ts';
import type { PluginApiRequest, PluginApiResponse } from '../protocol/index.ts';
import { ownDeadline, TOKEN_METADATA_KEY, tokenFromMetadata } from './call-metadata.ts';
import type { CallPipeline } from './call-pipeline.ts';
import { failedResponse } from './refusals.ts';

/**
 * CallApi, one host API call: its token from the request's metadata or else the call's. A refusal
 * is a response too (success false, its code in error_code and error_message).
 */
export function callApiHandler(calls: CallPipeline) {
  return (
    call: ServerUnaryCall<PluginApiRequest, PluginApiResponse>,
    callback: sendUnaryData<PluginApiResponse>,
  ): void => {
    const { request } = call;
    const token = request.metadata[TOKEN_METADATA_KEY] ?? tokenFromMetadata(call.metadata);
    calls.serve(request, token, ownDeadline(call), call, (answer) =>
      callback(null, answer instanceof SandboxError ? failedResponse(answer) : answer),
    );
  };
}
