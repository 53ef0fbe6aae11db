import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { PROTOCOL_VERSION } from './generated/classtop-plugin.ts';
import { checkSdkProtocolVersion } from './protocol-version.ts';

function refusal(sdkVersion: string, gatewayVersion: string): string {
  try {
    checkSdkProtocolVersion(sdkVersion, gatewayVersion);
  } catch (err) {
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'INVALID_REQUEST');
    return err.message;
  }
  assert.fail(`SDK ${sdkVersion} was accepted by gateway ${gatewayVersion}`);
}

describe('the SDK protocol version rule', () => {
  it('accepts the same major at any minor, and its own version', () => {
    for (const sdk of ['2.0', '2.1', '2.9', '2.10']) checkSdkProtocolVersion(sdk, '2.3');
    checkSdkProtocolVersion(PROTOCOL_VERSION);
  });

  it('accepts a client that states no version (built from the specification alone)', () => {
    checkSdkProtocolVersion('', '2.3');
  });

  it('refuses an older major, naming both versions and what to do', () => {
    assert.equal(
      refusal('1.7', '2.3'),
      "Register: SDK protocol version 1.7 is older than the gateway's minimum 2.0; rebuild the plugin with a newer SDK",
    );
  });

  it('refuses a newer major and a version that is not MAJOR.MINOR', () => {
    assert.match(refusal('3.0', '2.3'), /SDK protocol version 3\.0 is newer than the gateway's 2\.3/);
    for (const bad of ['1', '1.0.0', 'v1.0', 'latest']) assert.match(refusal(bad, '2.3'), /is not MAJOR\.MINOR/);
  });
});
