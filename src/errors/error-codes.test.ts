import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from '../protocol/index.ts';
import { ERROR_CODES, errorCodeFromGrpcStatus } from './error-codes.ts';

describe('the error-code registry', () => {
  it('has exactly the PluginErrorCode enum of the proto, with the same numbers', () => {
    const definition = loadSync('classtop_plugin.proto', PROTO_LOADER_OPTIONS);
    const enumType = definition['classtop.plugin.PluginErrorCode'] as {
      type: { value: Array<{ name: string; number: number }> };
    };
    const fromProto = Object.fromEntries(enumType.type.value.map((v) => [v.name, v.number]));
    const fromRegistry = Object.fromEntries(Object.entries(ERROR_CODES).map(([name, entry]) => [name, entry.number]));
    assert.deepEqual(fromRegistry, fromProto);
  });

  it('maps each code to a distinct gRPC status, and back', () => {
    const statuses = Object.values(ERROR_CODES).map((e) => e.grpc);
    assert.equal(new Set(statuses).size, statuses.length);
    for (const [name, entry] of Object.entries(ERROR_CODES)) assert.equal(errorCodeFromGrpcStatus(entry.grpc), name);
    assert.equal(errorCodeFromGrpcStatus(GrpcStatus.UNAVAILABLE), 'INTERNAL_ERROR');
  });
});
