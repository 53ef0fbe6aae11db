import { SandboxError } from '../errors/index.ts';
import { PROTOCOL_VERSION } from './generated/classtop-plugin.ts';

const VERSION = /^(\d+)\.(\d+)$/;

function majorOf(version: string): number | undefined {
  const found = VERSION.exec(version);
  return found ? Number(found[1]) : undefined;
}

/**
 * The gateway's rule for the protocol version an SDK states at Register (`sdk_protocol_version`):
 * the same major as the gateway's is accepted, whatever the minor (minor versions only add, and
 * either side ignores what it does not know); another major is refused with INVALID_REQUEST
 * saying what to rebuild. A client that states none (one built from the specification's proto
 * alone) is accepted.
 */
export function checkSdkProtocolVersion(sdkVersion: string, gatewayVersion: string = PROTOCOL_VERSION): void {
  if (sdkVersion === '') return;
  const sdkMajor = majorOf(sdkVersion);
  const gatewayMajor = majorOf(gatewayVersion);
  if (gatewayMajor === undefined)
    throw new Error(`the gateway's PROTOCOL_VERSION '${gatewayVersion}' is not MAJOR.MINOR`);
  if (sdkMajor === undefined) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `Register: sdk_protocol_version '${sdkVersion}' is not MAJOR.MINOR; send the SDK's PROTOCOL_VERSION, or nothing`,
    );
  }
  if (sdkMajor < gatewayMajor) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `Register: SDK protocol version ${sdkVersion} is older than the gateway's minimum ${gatewayMajor}.0; rebuild the plugin with a newer SDK`,
    );
  }
  if (sdkMajor > gatewayMajor) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `Register: SDK protocol version ${sdkVersion} is newer than the gateway's ${gatewayVersion}; run a classtop-sandbox that speaks protocol ${sdkMajor}.x, or rebuild the plugin with an SDK of protocol ${gatewayMajor}.x`,
    );
  }
}
