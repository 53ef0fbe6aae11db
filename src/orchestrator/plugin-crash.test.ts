import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, SandboxError } from '../errors/index.ts';
import { gotNoAnswer } from './plugin-crash.ts';

function grpcFailure(code: GrpcStatus, trailer?: string): SandboxError {
  const metadata = new Metadata();
  if (trailer) metadata.set(ERROR_CODE_METADATA_KEY, trailer);
  return new SandboxError('INTERNAL_ERROR', 'p Lifecycle ENABLE: failed', { cause: { code, metadata } });
}

describe('gotNoAnswer', () => {
  it('is a dropped connection or reset stream; not a refusal, a response, or a timeout', () => {
    assert.equal(gotNoAnswer(grpcFailure(GrpcStatus.UNAVAILABLE)), true);
    assert.equal(gotNoAnswer(grpcFailure(GrpcStatus.INTERNAL)), true);
    assert.equal(gotNoAnswer(grpcFailure(GrpcStatus.INTERNAL, 'INTERNAL_ERROR')), false);
    assert.equal(gotNoAnswer(grpcFailure(GrpcStatus.DEADLINE_EXCEEDED)), false);
    assert.equal(gotNoAnswer(new SandboxError('INTERNAL_ERROR', 'ENABLE failed in the plugin: no')), false);
  });
});
