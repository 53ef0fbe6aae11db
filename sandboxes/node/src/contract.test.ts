import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { refusalText, type PluginErrorCode } from './errors.ts';
import { PROTOCOL_VERSION } from './generated/classtop-plugin.ts';
import { CONTAINER_ENV } from './generated/container-env.ts';
import { ERROR_CODE_METADATA_KEY, GRPC_STATUS } from './generated/error-codes.ts';

interface Contract {
  protocolVersion: string;
  errorCodes: Record<string, { grpcStatus: number }>;
  errorCodeMetadataKey: string;
  refusalExamples: Array<{ code: PluginErrorCode; message: string; text: string }>;
  containerEnvironment: Record<string, unknown>;
}

// The language-neutral contract generated from src/ (npm run generate), read from the repository.
const CONTRACT = new URL('../../../src/protocol/generated/contract.json', import.meta.url);
const contract = JSON.parse(readFileSync(CONTRACT, 'utf8')) as Contract;

describe("the Node SDK's copy of the contract", () => {
  it('speaks the protocol version of the contract', () => {
    assert.equal(PROTOCOL_VERSION, contract.protocolVersion);
  });

  it('maps every error code to the gRPC status of the error-code registry', () => {
    const fromContract = Object.fromEntries(Object.entries(contract.errorCodes).map(([c, e]) => [c, e.grpcStatus]));
    assert.deepEqual({ ...GRPC_STATUS }, fromContract);
    assert.equal(ERROR_CODE_METADATA_KEY, contract.errorCodeMetadataKey);
  });

  it('writes refusal texts by the same rule as the gateway', () => {
    for (const { code, message, text } of contract.refusalExamples) assert.equal(refusalText(code, message), text);
  });

  it('knows the container environment the orchestrator sets', () => {
    assert.deepEqual(Object.keys(CONTAINER_ENV), Object.keys(contract.containerEnvironment));
  });
});
