import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServiceError,
} from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, type SandboxError } from '../errors/index.ts';
import { limitMetadata, metadataBytes } from './metadata-limit.ts';

const LIMIT_BYTES = 2 * 1024;
const DEADLINE_MS = 5_000;
const identity = (bytes: Buffer) => bytes;
/** A unary method on raw bytes. */
const method = (name: string) => ({
  path: `/test.Echo/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

describe('metadataBytes', () => {
  it('counts each field as HTTP/2 does: name, value and 32 bytes', () => {
    const metadata = new Metadata();
    metadata.set('a', 'xyz');
    metadata.add('a', 'uvwx'); // a second field of the same name
    metadata.set('b-bin', Buffer.from([1, 2, 3])); // sent as base64: 4 bytes
    assert.equal(metadataBytes(metadata), 1 + 3 + 32 + (1 + 4 + 32) + (5 + 4 + 32));
  });
});

describe('limitMetadata, on a real grpc-js server and client', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-metadata-'));
  const refusals: { rpc: string; failure: SandboxError }[] = [];
  const server = new Server({
    interceptors: [
      limitMetadata(LIMIT_BYTES, {
        // Say's refusals are responses; Shout's are gRPC statuses (as a stream's would be).
        response: (rpc, failure) => (rpc === 'Say' ? Buffer.from(`refused: ${failure.message}`) : undefined),
        refused: (rpc, failure) => refusals.push({ rpc, failure }),
      }),
    ],
  });
  let served = 0;
  let client: Client;

  before(async () => {
    const handler = (_call: unknown, done: (e: null, r: Buffer) => void) => {
      served++;
      done(null, Buffer.from('ok'));
    };
    server.addService({ Say: method('Say'), Shout: method('Shout') }, { Say: handler, Shout: handler });
    const socket = `unix://${path.join(dir, 'echo.sock')}`;
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(socket, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    client = new Client(socket, credentials.createInsecure());
  });

  after(() => {
    client?.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (name: string, fillerBytes: number) =>
    new Promise<{ err: ServiceError | null; response?: Buffer }>((resolve) => {
      const metadata = new Metadata();
      metadata.set('x-filler', 'x'.repeat(fillerBytes));
      const options = { deadline: Date.now() + DEADLINE_MS };
      client.makeUnaryRequest(
        method(name).path,
        identity,
        identity,
        Buffer.from('hi'),
        metadata,
        options,
        (err, response) => resolve({ err, response }),
      );
    });

  it('serves a call under the limit', async () => {
    assert.deepEqual(await send('Say', LIMIT_BYTES / 2), { err: null, response: Buffer.from('ok') });
    assert.equal(served, 1);
  });

  it('refuses a call over the limit before its handler: the response the hook gives, or a status', async () => {
    const answered = await send('Say', LIMIT_BYTES);
    assert.equal(answered.err, null);
    assert.match(
      answered.response?.toString() ?? '',
      /^refused: Say: metadata of \d+ bytes exceeds maxMetadataBytes \(2048\); send less metadata$/,
    );
    const { err } = await send('Shout', LIMIT_BYTES);
    assert.equal(err?.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(err.details, /^INVALID_REQUEST: Shout: metadata of \d+ bytes exceeds maxMetadataBytes \(2048\)/);
    assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA_KEY), ['INVALID_REQUEST']);
    assert.equal(served, 1, 'no handler ran');
    assert.deepEqual(
      refusals.map(({ rpc, failure }) => [rpc, failure.code]),
      [
        ['Say', 'INVALID_REQUEST'],
        ['Shout', 'INVALID_REQUEST'],
      ],
    );
    assert.equal((await send('Say', 0)).err, null, 'the next call is served');
  });
});
