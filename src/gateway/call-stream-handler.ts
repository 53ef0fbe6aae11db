import type { ServerDuplexStream } from '@grpc/grpc-js';
import { SandboxError } from '../errors/index.ts';
import type { PluginApiCall, PluginApiRequest, PluginApiResult } from '../protocol/index.ts';
import { TOKEN_METADATA_KEY, tokenFromMetadata } from './call-metadata.ts';
import type { CallPipeline } from './call-pipeline.ts';
import { failedResponse } from './refusals.ts';
import type { OpenStreams } from './stream-slots.ts';

/** CallStreams a plugin may have open at once: the SDK keeps one, and opens another if it fails. */
export const MAX_CALL_STREAMS = 2;

/** A call that carried no request: checked as any other, and refused as an unknown API (''). */
const NO_REQUEST: PluginApiRequest = { api_name: '', payload: Buffer.alloc(0), metadata: {} };

/**
 * CallApi calls on one stream (an addition to the protocol), each answered on it by its id:
 * admitted, limited and audited as a CallApi is. A failed call is an answer with its code; the
 * stream goes on. When the plugin cancels the stream, its calls still waiting are withdrawn.
 */
export function callStreamHandler(calls: CallPipeline, streams: OpenStreams) {
  return (stream: ServerDuplexStream<PluginApiCall, PluginApiResult>): void => {
    if (!streams.admit(stream)) return;
    const token = tokenFromMetadata(stream.metadata);
    // Every waiting call listens for the stream's cancellation.
    stream.setMaxListeners(0);
    let waiting = 0;
    let ended = false;
    stream.on('data', ({ id, request, deadline_ms: deadlineMs }: PluginApiCall) => {
      waiting++;
      const callToken = request?.metadata[TOKEN_METADATA_KEY] ?? token;
      calls.serve(request ?? NO_REQUEST, callToken, deadlineMs, stream, (answer) => {
        waiting--;
        const response = answer instanceof SandboxError ? failedResponse(answer) : answer;
        if (!stream.cancelled) stream.write({ id, response });
        if (ended && waiting === 0) stream.end();
      });
    });
    streams.onClosed(stream, {
      closed: () => undefined,
      ended: () => {
        ended = true;
        if (waiting === 0) stream.end();
      },
    });
  };
}
