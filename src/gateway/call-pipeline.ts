import type { EventEmitter } from 'node:events';
import { asSandboxError, SandboxError } from '../errors/index.ts';
import type { PluginApiRequest, PluginApiResponse } from '../protocol/index.ts';
import type { UpstreamCalls } from '../upstream/index.ts';
import { admitCall, type AdmissionPolicy, type AdmittedCall, type CallAdmissionState } from './admission.ts';
import type { DecisionRecorder } from './decision-recorder.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { announceSharedMemory, SHARED_MEMORY_READY_API, type SharedMemoryRegion } from './shared-memory-handler.ts';
import { TokenBucket } from './token-bucket.ts';
import type { VerifiedSession } from './verified-session.ts';

/** An answer to one call: the host's response, or the refusal or failure. */
export type CallAnswer = PluginApiResponse | SandboxError;

/**
 * The path of every host API call, from CallApi or a CallStream: admission, then the host (or the
 * gateway itself, for a shared-memory announcement); the answer goes back, and the decision is
 * recorded after. It keeps the state admission takes from: the rate limit, the calls in progress.
 */
export class CallPipeline implements CallAdmissionState {
  private readonly options: GatewayOptions;
  private readonly session: VerifiedSession;
  private readonly decisions: DecisionRecorder;
  private readonly policy: AdmissionPolicy;
  private readonly bucket: TokenBucket;
  private readonly upstreamCalls: UpstreamCalls;
  inFlight = 0;

  constructor(options: GatewayOptions, session: VerifiedSession, decisions: DecisionRecorder) {
    this.options = options;
    this.session = session;
    this.decisions = decisions;
    const { limits, manifest, granted } = options;
    this.policy = { pluginId: manifest.id, granted, limits };
    this.bucket = new TokenBucket(limits.callsPerSecond, limits.burst);
    this.upstreamCalls = options.upstream.openCalls();
  }

  authenticate(token: string | undefined): void {
    this.session.authenticate(token);
  }

  takeToken(): boolean {
    return this.bucket.take();
  }

  /**
   * Serves one call: `ownDeadlineMs` is the plugin's (0 or Infinity when none), `plugin` its call
   * (its 'cancelled' withdraws this one); `respond` gets the response or the failure.
   */
  serve(
    request: PluginApiRequest,
    token: string | undefined,
    ownDeadlineMs: number,
    plugin: EventEmitter,
    respond: (answer: CallAnswer) => void,
  ): void {
    const nowMs = Date.now();
    const started = performance.now();
    const apiName = request.api_name;
    const done = (answer: CallAnswer) => {
      respond(answer);
      if (answer instanceof SandboxError) this.decisions.decided(apiName, answer.code, started, answer.message);
      else this.decisions.decided(apiName, 'OK', started);
    };
    const admitted = admitCall({ request, token, ownDeadlineMs, nowMs }, this.policy, this);
    if (admitted instanceof SandboxError) return done(admitted);
    let answer: Promise<PluginApiResponse>;
    try {
      answer = this.dispatch(admitted, plugin);
    } catch (err) {
      return done(asSandboxError(err, `${apiName} failed`));
    }
    this.inFlight++;
    answer.then(
      (response) => {
        this.inFlight--;
        done(response);
      },
      (err: unknown) => {
        this.inFlight--;
        done(asSandboxError(err, `${apiName} failed`));
      },
    );
  }

  /** Ends the channel to the host; calls still waiting fail. */
  close(): void {
    this.upstreamCalls.close();
  }

  private dispatch(call: AdmittedCall, plugin: EventEmitter): Promise<PluginApiResponse> {
    if (call.apiName === SHARED_MEMORY_READY_API) {
      const region = call.parsed as SharedMemoryRegion;
      return announceSharedMemory(region, call.deadlineMs, plugin, this.options.onSharedMemoryReady);
    }
    const { identity } = this.options;
    const forwarded = {
      tenant: identity.tenant,
      plugin_id: identity.pluginId,
      instance_id: identity.instanceId,
      api_name: call.apiName,
      payload: call.payload,
    };
    return this.upstreamCalls.invoke(forwarded, call.deadlineMs, plugin);
  }
}
