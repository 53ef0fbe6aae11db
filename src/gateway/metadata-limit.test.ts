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
const ECHO = {
  path: '/test.Echo/Say',
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};

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
  const server = new Server({
    interceptors: [limitMetadata(LIMIT_BYTES, (rpc, failure) => refusals.push({ rpc, failure }))],
  });
  const refusals: { rpc: string; failure: SandboxError }[] = [];
  let served = 0;
  let client: Client;

  before(async () => {
    server.addService(
      { Say: ECHO },
      {
        Say: (_call: unknown, done: (e: null, r: Buffer) => void) => {
          served++;
          done(null, Buffer.from('ok'));
        },
      },
    );
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

  const say = (fillerBytes: number) =>
    new Promise<ServiceError | null>((resolve) => {
      const metadata = new Metadata();
      metadata.set('x-filler', 'x'.repeat(fillerBytes));
      client.makeUnaryRequest(
        ECHO.path,
        identity,
        identity,
        Buffer.from('hi'),
        metadata,
        {
          deadline: Date.now() + DEADLINE_MS,
        },
        (err) => resolve(err),
      );
    });

  it('serves a call under the limit', async () => {
    assert.equal(await say(LIMIT_BYTES / 2), null);
    assert.equal(served, 1);
  });

  it('refuses a call over the limit before its handler, with INVALID_REQUEST naming the limit', async () => {
    const err = await say(LIMIT_BYTES);
    assert.ok(err);
    assert.equal(err.code, GrpcStatus.INVALID_ARGUMENT);
    assert.match(err.details, /^Say: metadata of \d+ bytes exceeds maxMetadataBytes \(2048\); send less metadata$/);
    assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA_KEY), ['INVALID_REQUEST']);
    assert.equal(served, 1, 'the handler did not run');
    assert.deepEqual(
      refusals.map(({ rpc, failure }) => [rpc, failure.code, failure.message]),
      [['Say', 'INVALID_REQUEST', err.details]],
    );
    assert.equal(await say(0), null, 'the next call is served');
  });
});
