import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { asSandboxError, SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { checkSdkProtocolVersion, type PluginRegisterRequest, type PluginRegisterResponse } from '../protocol/index.ts';
import { parseCertificates } from '../trust/index.ts';
import type { DecisionRecorder } from './decision-recorder.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { failedRegistration } from './refusals.ts';

export interface RegisterContext {
  options: Pick<GatewayOptions, 'manifest' | 'identity' | 'granted' | 'tokens'>;
  decisions: DecisionRecorder;
  log: Logger;
  /** Told of the plugin's registration, once it is answered. */
  registered: (request: PluginRegisterRequest) => void;
}

/**
 * Register: the plugin proves it is the one this socket was made for (id, version, certificate)
 * and asks for no permission it was not granted; it gets this socket's session token.
 */
export function registerHandler(ctx: RegisterContext) {
  return (
    call: ServerUnaryCall<PluginRegisterRequest, PluginRegisterResponse>,
    callback: sendUnaryData<PluginRegisterResponse>,
  ): void => {
    const { manifest, identity, granted, tokens } = ctx.options;
    const request = call.request;
    try {
      checkSdkProtocolVersion(request.sdk_protocol_version);
      if (request.plugin_id !== manifest.id || request.version !== manifest.version) {
        throw new SandboxError(
          'AUTHENTICATION_FAILED',
          `Register: this socket belongs to ${manifest.id}@${manifest.version}, not ${request.plugin_id}@${request.version}`,
        );
      }
      checkCertificate(request.certificate, identity.certificateFingerprint, manifest.id);
      const extra = request.permissions.filter((p) => !granted.has(p));
      if (extra.length > 0) {
        throw new SandboxError(
          'PERMISSION_DENIED',
          `Register: permissions not granted to ${manifest.id}: ${extra.join(', ')}; declare them in plugin.yaml and have the tenant allow them`,
        );
      }
      const { token, expiresAtMs } = tokens.issue(identity);
      ctx.log.info('plugin registered');
      ctx.decisions.decided('Register', 'OK', performance.now());
      callback(null, {
        success: true,
        message: 'registered',
        session_token: token,
        error_code: 'OK',
        token_expires_at_ms: expiresAtMs,
      });
      ctx.registered(request);
    } catch (err) {
      const failure = asSandboxError(err, 'Register failed');
      callback(null, failedRegistration(failure));
      ctx.decisions.decided('Register', failure.code, performance.now(), failure.message);
    }
  };
}

/** A signed plugin must present the very certificate its bundle was verified with ('' when unsigned). */
function checkCertificate(certificate: Buffer, expected: string, pluginId: string): void {
  if (expected === '') return;
  let presented = '(none)';
  try {
    if (certificate.length > 0) presented = parseCertificates(certificate)[0]?.fingerprint ?? presented;
  } catch {
    presented = '(unreadable)';
  }
  if (presented !== expected) {
    throw new SandboxError(
      'AUTHENTICATION_FAILED',
      `Register: the certificate presented (${presented}) is not the one ${pluginId} was verified with (${expected})`,
    );
  }
}
