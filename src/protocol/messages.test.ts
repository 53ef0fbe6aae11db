import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from './load-protocol.ts';

// The fields of each message, in order: the wire contract the SDKs rely on. A field renamed or
// removed in proto/ fails here (generated/ would follow it silently); an addition is added here.
const DECLARED: Record<string, string[]> = {
  'classtop.plugin.PluginRegisterRequest': [
    'plugin_id',
    'plugin_name',
    'version',
    'permissions',
    'certificate',
    'sdk_protocol_version',
  ],
  'classtop.plugin.PluginRegisterResponse': [
    'success',
    'message',
    'session_token',
    'error_code',
    'token_expires_at_ms',
  ],
  'classtop.plugin.PluginApiRequest': ['api_name', 'payload', 'metadata'],
  'classtop.plugin.PluginApiResponse': ['success', 'error_message', 'result', 'error_code'],
  'classtop.plugin.PluginEvent': ['event_name', 'event_data', 'timestamp', 'source_plugin_id', 'timestamp_ms'],
  'classtop.plugin.PluginEventAck': ['received'],
  'classtop.plugin.PluginLifecycleRequest': ['action', 'state_data'],
  'classtop.plugin.PluginLifecycleResponse': ['success', 'message', 'saved_state', 'error_code'],
  'classtop.host.v1.HostApiRequest': ['tenant', 'plugin_id', 'instance_id', 'api_name', 'payload'],
  'classtop.host.v1.HostCall': ['id', 'request', 'deadline_ms', 'cancel'],
  'classtop.host.v1.HostResult': ['id', 'response'],
  'classtop.host.v1.WatchEventsRequest': ['tenant'],
};

// The specification's own field numbers are checked against its proto, verbatim, by
// test/integration/spec-proto.test.ts.

type MessageDefinition = { type: { field: Array<{ name: string; number: number }> } };

describe('the protocol', () => {
  const definition = loadSync(['classtop_plugin.proto', 'classtop_host.proto'], PROTO_LOADER_OPTIONS);

  it('has the fields the SDKs rely on', () => {
    for (const [name, fields] of Object.entries(DECLARED)) {
      const message = definition[name] as MessageDefinition | undefined;
      assert.ok(message, `${name} is missing from proto/`);
      assert.deepEqual(
        message.type.field.map((f) => f.name),
        fields,
        name,
      );
    }
  });

  it('serves the RPCs of ClassTopPluginService, with the addition CallStream, with their streaming kinds', () => {
    const service = definition['classtop.plugin.ClassTopPluginService'] as Record<
      string,
      { requestStream: boolean; responseStream: boolean }
    >;
    assert.deepEqual(Object.keys(service).sort(), [
      'CallApi',
      'CallStream',
      'Lifecycle',
      'Register',
      'SubscribeEvents',
    ]);
    assert.deepEqual([service.SubscribeEvents?.requestStream, service.SubscribeEvents?.responseStream], [true, true]);
    assert.deepEqual([service.CallApi?.requestStream, service.CallApi?.responseStream], [false, false]);
    assert.deepEqual([service.CallStream?.requestStream, service.CallStream?.responseStream], [true, true]);
  });
});
