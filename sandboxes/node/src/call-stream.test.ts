import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { CallStream } from './call-stream.ts';
import type { GatewayClient } from './gateway-client.ts';
import {
  gatewayClient,
  pluginService,
  type ApiCall,
  type ApiRequest,
  type ApiResponse,
  type ApiResult,
} from './protocol.ts';

const answer = (text: string): ApiResponse => ({
  success: true,
  error_message: '',
  result: Buffer.from(JSON.stringify(text)),
  error_code: 'OK',
});
const request = (apiName: string): ApiRequest => ({ api_name: apiName, payload: Buffer.alloc(0), metadata: {} });

/** A gateway on a real unix socket, serving what `handlers` implement (the rest: UNIMPLEMENTED). */
async function gateway(handlers: UntypedServiceImplementation): Promise<{ client: GatewayClient; stop: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdk-calls-'));
  const socket = path.join(dir, 'gateway.sock');
  const server = new Server();
  server.addService(pluginService().service, handlers);
  await new Promise((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  const client = gatewayClient(socket) as GatewayClient;
  return {
    client,
    stop: () => {
      client.close();
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('CallStream: the SDK calls the gateway on one stream', () => {
  const stops: Array<() => void> = [];
  after(() => stops.forEach((stop) => stop()));

  it('matches answers that come back in another order to their calls, on one stream', async () => {
    let streams = 0;
    const { client, stop } = await gateway({
      CallStream: (stream: ServerDuplexStream<ApiCall, ApiResult>) => {
        streams++;
        const held: ApiCall[] = [];
        stream.on('data', (call: ApiCall) => {
          held.push(call);
          // Answers the pair in reverse order.
          if (held.length === 2)
            for (const c of held.reverse()) stream.write({ id: c.id, response: answer(c.request?.api_name ?? '') });
        });
      },
    });
    stops.push(stop);
    const calls = new CallStream(client, () => 'token');
    const deadline = Date.now() + 5_000;
    const [first, second] = await Promise.all([
      calls.call(request('first'), deadline),
      calls.call(request('second'), deadline),
    ]);
    assert.equal(JSON.parse(first.result.toString()), 'first');
    assert.equal(JSON.parse(second.result.toString()), 'second');
    assert.equal(streams, 1);
    calls.close();
  });

  it('fails the calls waiting when the stream fails, and opens a new one for the next call', async () => {
    let streams = 0;
    const { client, stop } = await gateway({
      CallStream: (stream: ServerDuplexStream<ApiCall, ApiResult>) => {
        const n = ++streams;
        stream.on('data', (call: ApiCall) => {
          if (n === 1) stream.emit('error', { code: GrpcStatus.INTERNAL, details: 'gateway broke' });
          else stream.write({ id: call.id, response: answer('again') });
        });
      },
    });
    stops.push(stop);
    const calls = new CallStream(client, () => 'token');
    await assert.rejects(calls.call(request('x'), Date.now() + 5_000), { code: GrpcStatus.INTERNAL });
    const next = await calls.call(request('y'), Date.now() + 5_000);
    assert.equal(JSON.parse(next.result.toString()), 'again');
    assert.equal(streams, 2);
    calls.close();
  });

  it('calls a gateway without CallStream with CallApi, the first call included', async () => {
    let unary = 0;
    const { client, stop } = await gateway({
      CallApi: (call: ServerUnaryCall<ApiRequest, ApiResponse>, callback: sendUnaryData<ApiResponse>) => {
        unary++;
        callback(null, answer(call.request.api_name));
      },
    });
    stops.push(stop);
    const calls = new CallStream(client, () => 'token');
    const first = await calls.call(request('first'), Date.now() + 5_000);
    const second = await calls.call(request('second'), Date.now() + 5_000);
    assert.deepEqual([JSON.parse(first.result.toString()), JSON.parse(second.result.toString())], ['first', 'second']);
    assert.equal(unary, 2);
    calls.close();
  });
});
