import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_DIR, PROTO_LOADER_OPTIONS } from '../../src/protocol/index.ts';
import { REPO_ROOT } from '../helpers/test-orchestrator.ts';

const SPEC_DIR = path.join(REPO_ROOT, 'test/fixtures/spec');

interface Field {
  name: string;
  number: number;
  type: string;
  typeName: string;
  label: string;
}
interface Described {
  type?: { field?: Field[]; value?: Array<{ name: string; number: number }> };
  [method: string]: unknown;
}

function load(dir: string): Record<string, Described> {
  return loadSync('classtop_plugin.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [dir] }) as Record<
    string,
    Described
  >;
}

describe("our classtop_plugin.proto against the specification's", () => {
  const spec = load(SPEC_DIR);
  const ours = load(PROTO_DIR);

  it('keeps every message, field number, type and label of the specification (additions only)', () => {
    for (const [name, described] of Object.entries(spec)) {
      assert.ok(ours[name], `${name} is missing from proto/classtop_plugin.proto`);
      for (const field of described.type?.field ?? []) {
        const match = ours[name].type?.field?.find((f) => f.number === field.number);
        assert.deepEqual(
          match && [match.name, match.type, match.typeName, match.label],
          [field.name, field.type, field.typeName, field.label],
          `${name} field ${field.number} (${field.name}) differs`,
        );
      }
      for (const value of described.type?.value ?? []) {
        const match = ours[name].type?.value?.find((v) => v.number === value.number);
        assert.equal(match?.name, value.name, `${name} value ${value.number} differs`);
      }
    }
  });

  it('keeps every RPC of the specification with the same request and response types', () => {
    const service = 'classtop.plugin.ClassTopPluginService';
    const methods = spec[service] as Record<string, { requestType: unknown; responseStream: boolean }>;
    const ourMethods = ours[service] as Record<string, { requestType: unknown; responseStream: boolean }>;
    for (const [rpc, method] of Object.entries(methods)) {
      assert.ok(ourMethods[rpc], `${rpc} is missing`);
      assert.equal(ourMethods[rpc].responseStream, method.responseStream, `${rpc} streaming differs`);
    }
  });
});
