import { asSandboxError, SandboxError } from '../errors/index.ts';
import { findHostApi, parsePayload } from '../host-api/index.ts';
import type { PluginApiRequest } from '../protocol/index.ts';
import type { CallLimits } from './gateway-options.ts';

/**
 * The gateway's admission rules, as functions of their inputs: no socket, no clock, no upstream.
 * A refusal is returned, never thrown, so each handler decides how to answer it.
 */

/** What admission knows of the plugin: its id (refusals name it), its permissions, its limits. */
export interface AdmissionPolicy {
  readonly pluginId: string;
  readonly granted: ReadonlySet<string>;
  readonly limits: Pick<
    CallLimits,
    'callsPerSecond' | 'burst' | 'maxConcurrentCalls' | 'maxMessageBytes' | 'maxDeadlineMs'
  >;
}

/** The socket's session: who may call on it. */
export interface SessionCheck {
  /** Throws AUTHENTICATION_FAILED unless `token` is this socket's live session token. */
  authenticate(token: string | undefined): void;
}

/** What a call takes from: the session, the rate limit, the calls in progress. */
export interface CallAdmissionState extends SessionCheck {
  /** Takes one call off the rate limit; false when none is left. */
  takeToken(): boolean;
  /** Calls admitted and not answered yet. */
  readonly inFlight: number;
}

/** One call as it arrived. */
export interface CallRequest {
  readonly request: PluginApiRequest;
  /** The session token it carries (request metadata, else the call's gRPC metadata). */
  readonly token: string | undefined;
  /** The deadline the plugin set (epoch ms; 0 or Infinity when none). */
  readonly ownDeadlineMs: number;
  /** Now (epoch ms). */
  readonly nowMs: number;
}

/** A call that passed every rule. */
export interface AdmittedCall {
  readonly apiName: string;
  readonly payload: PluginApiRequest['payload'];
  /** The payload as its schema parsed it. */
  readonly parsed: unknown;
  /** When it must be answered (epoch ms): its own deadline, capped at maxDeadlineMs. */
  readonly deadlineMs: number;
}

/** Open streams of one kind, and how many may be open at once. */
export interface StreamSlots {
  readonly open: number;
  readonly max: number;
  /** What refusals call them: 'call streams', 'event streams'. */
  readonly kind: string;
}

/** A call's own deadline (epoch ms), capped at `maxDeadlineMs` from `nowMs`; the cap when it set none (0 or Infinity). */
export function capDeadline(ownMs: number, nowMs: number, maxDeadlineMs: number): number {
  const cap = nowMs + maxDeadlineMs;
  return Number.isFinite(ownMs) && ownMs > 0 ? Math.min(ownMs, cap) : cap;
}

/**
 * The rules of one call, in order: session token, rate limit, concurrency cap, API known,
 * permission held, payload size, payload schema; the deadline capped. The first rule that fails
 * is the answer.
 */
export function admitCall(
  call: CallRequest,
  policy: AdmissionPolicy,
  state: CallAdmissionState,
): AdmittedCall | SandboxError {
  try {
    return checkCall(call, policy, state);
  } catch (err) {
    return asSandboxError(err, `${call.request.api_name} failed`);
  }
}

function checkCall(call: CallRequest, policy: AdmissionPolicy, state: CallAdmissionState): AdmittedCall {
  const { api_name: apiName, payload } = call.request;
  const { limits, pluginId } = policy;
  state.authenticate(call.token);
  if (!state.takeToken()) {
    throw new SandboxError(
      'RATE_LIMIT_EXCEEDED',
      `${pluginId} is over its rate limit of ${limits.callsPerSecond} calls/s (burst ${limits.burst}); slow down and retry`,
    );
  }
  if (state.inFlight >= limits.maxConcurrentCalls) {
    throw new SandboxError(
      'RATE_LIMIT_EXCEEDED',
      `${pluginId} already has ${state.inFlight} calls in progress, the maximum; wait for some to finish`,
    );
  }
  const api = findHostApi(apiName);
  if (!api) throw new SandboxError('NOT_FOUND', `unknown host API '${apiName}'; see the host API list in the README`);
  if (api.permission !== null && !policy.granted.has(api.permission)) {
    throw new SandboxError(
      'PERMISSION_DENIED',
      `${apiName} needs permission '${api.permission}', which ${pluginId} does not hold; declare it under permissions in plugin.yaml`,
    );
  }
  if (payload.length > limits.maxMessageBytes) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `${apiName}: payload of ${payload.length} bytes exceeds the maximum of ${limits.maxMessageBytes}; send less, or use shared memory`,
    );
  }
  const parsed = parsePayload(apiName, api, payload);
  const deadlineMs = capDeadline(call.ownDeadlineMs, call.nowMs, limits.maxDeadlineMs);
  return { apiName, payload, parsed, deadlineMs };
}

/** The rules of a new stream, in order: session token, room under its kind's limit. */
export function admitStream(
  rpc: string,
  token: string | undefined,
  pluginId: string,
  session: SessionCheck,
  slots: StreamSlots,
): SandboxError | undefined {
  try {
    session.authenticate(token);
  } catch (err) {
    return asSandboxError(err, rpc);
  }
  if (slots.open < slots.max) return undefined;
  return new SandboxError(
    'RATE_LIMIT_EXCEEDED',
    `${pluginId} already has ${slots.open} ${slots.kind} open, the maximum; close one first`,
  );
}
