import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import {
  admitCall,
  admitStream,
  capDeadline,
  type AdmissionPolicy,
  type AdmittedCall,
  type CallAdmissionState,
} from './admission.ts';
import { SessionTokens, type SessionIdentity } from './session-tokens.ts';
import { VerifiedSession } from './verified-session.ts';

const PLUGIN = 'com.example.admission';
const NOW_MS = 1_800_000_000_000;
const MAX_DEADLINE_MS = 30_000;
const TOKEN_TTL_MS = 60_000;
const identity: SessionIdentity = { tenant: 't1', pluginId: PLUGIN, instanceId: 'i1', certificateFingerprint: '' };
const tokens = new SessionTokens(Buffer.alloc(32, 7), TOKEN_TTL_MS);
const { token: GOOD } = tokens.issue(identity);
const policy: AdmissionPolicy = {
  pluginId: PLUGIN,
  granted: new Set(['read:courses']),
  limits: { callsPerSecond: 5, burst: 2, maxConcurrentCalls: 3, maxMessageBytes: 64, maxDeadlineMs: MAX_DEADLINE_MS },
};

/** Admission state as the test sets it: the real session check, a rate limit that says `rateLeft`. */
function state(options: { rateLeft?: boolean; inFlight?: number } = {}): CallAdmissionState & { taken: number } {
  const session = new VerifiedSession(tokens, identity);
  return {
    taken: 0,
    inFlight: options.inFlight ?? 0,
    authenticate: (token) => session.authenticate(token),
    takeToken() {
      this.taken++;
      return options.rateLeft ?? true;
    },
  };
}

/** A call as it arrives; `token` is this socket's unless given (undefined included). */
function call(apiName: string, payload: unknown, given: { token?: string | undefined; ownDeadlineMs?: number } = {}) {
  const token = 'token' in given ? given.token : GOOD;
  const ownDeadlineMs = given.ownDeadlineMs ?? 0;
  const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { request: { api_name: apiName, payload: bytes, metadata: {} }, token, ownDeadlineMs, nowMs: NOW_MS };
}

function refusal(answer: AdmittedCall | SandboxError): SandboxError {
  assert.ok(answer instanceof SandboxError, `expected a refusal, got ${JSON.stringify(answer)}`);
  return answer;
}

describe('admitCall', () => {
  it('admits a call that passes every rule, with its payload parsed and its deadline capped', () => {
    const s = state();
    const admitted = admitCall(call('get_courses', {}), policy, s);
    assert.ok(!(admitted instanceof SandboxError));
    assert.equal(admitted.apiName, 'get_courses');
    assert.deepEqual(admitted.parsed, {});
    assert.equal(admitted.deadlineMs, NOW_MS + MAX_DEADLINE_MS);
    assert.equal(s.taken, 1);
  });

  it('1. session token: none, forged, or another instance’s is AUTHENTICATION_FAILED, before the rate limit', () => {
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'no session token; call Register first and send its session_token in the metadata'],
      ['ct1.e30.AAAA', 'session token signature is invalid'],
      ['not-a-token', 'malformed session token'],
      [
        tokens.issue({ ...identity, instanceId: 'i2' }).token,
        'session token belongs to another plugin instance; use the token this socket issued',
      ],
    ];
    for (const [token, message] of cases) {
      const s = state({ rateLeft: false, inFlight: 99 });
      const failure = refusal(admitCall(call('nope', 'x'.repeat(100), { token }), policy, s));
      assert.equal(failure.code, 'AUTHENTICATION_FAILED');
      assert.equal(failure.message, message);
      assert.equal(s.taken, 0, 'a call without a valid token takes nothing from the rate limit');
    }
  });

  it('2. rate limit: RATE_LIMIT_EXCEEDED naming the rate and burst, before the concurrency cap', () => {
    const failure = refusal(admitCall(call('nope', {}), policy, state({ rateLeft: false, inFlight: 99 })));
    assert.equal(failure.code, 'RATE_LIMIT_EXCEEDED');
    assert.equal(failure.message, `${PLUGIN} is over its rate limit of 5 calls/s (burst 2); slow down and retry`);
  });

  it('3. concurrency cap: RATE_LIMIT_EXCEEDED at maxConcurrentCalls in progress, before the API is looked up', () => {
    const s = state({ inFlight: 3 });
    const failure = refusal(admitCall(call('nope', {}), policy, s));
    assert.equal(failure.code, 'RATE_LIMIT_EXCEEDED');
    assert.equal(failure.message, `${PLUGIN} already has 3 calls in progress, the maximum; wait for some to finish`);
    assert.equal(s.taken, 1, 'the rate limit is taken from first');
    assert.ok(!(admitCall(call('get_courses', {}), policy, state({ inFlight: 2 })) instanceof SandboxError));
  });

  it('4. API known: NOT_FOUND for a name not in the catalogue, before the permission check', () => {
    for (const apiName of ['nope', '', 'constructor', '__proto__']) {
      const failure = refusal(admitCall(call(apiName, {}), policy, state()));
      assert.equal(failure.code, 'NOT_FOUND');
      assert.equal(failure.message, `unknown host API '${apiName}'; see the host API list in the README`);
    }
  });

  it('5. permission: PERMISSION_DENIED naming the permission, before the size check', () => {
    const failure = refusal(admitCall(call('add_course', 'x'.repeat(100)), policy, state()));
    assert.equal(failure.code, 'PERMISSION_DENIED');
    assert.equal(
      failure.message,
      `add_course needs permission 'modify:courses', which ${PLUGIN} does not hold; declare it under permissions in plugin.yaml`,
    );
    // An API that needs no permission is not refused for one.
    assert.ok(!(admitCall(call('log_info', { message: 'hi' }), policy, state()) instanceof SandboxError));
  });

  it('6. size: INVALID_REQUEST for a payload over maxMessageBytes, before the schema', () => {
    const failure = refusal(admitCall(call('log_info', 'x'.repeat(65)), policy, state()));
    assert.equal(failure.code, 'INVALID_REQUEST');
    assert.equal(
      failure.message,
      'log_info: payload of 65 bytes exceeds the maximum of 64; send less, or use shared memory',
    );
    assert.ok(!(admitCall(call('log_info', { message: 'x'.repeat(48) }), policy, state()) instanceof SandboxError));
  });

  it('7. payload schema: INVALID_REQUEST naming the API and the field', () => {
    const cases: Array<[string, unknown, string | RegExp]> = [
      ['log_info', {}, 'log_info: payload.message: is required'],
      ['log_info', { message: 'hi', extra: 1 }, 'log_info: payload: unknown field(s) extra'],
      ['log_info', '{"message":', /^log_info: payload is not valid JSON \(/],
    ];
    for (const [apiName, payload, message] of cases) {
      const failure = refusal(admitCall(call(apiName, payload), policy, state()));
      assert.equal(failure.code, 'INVALID_REQUEST');
      if (typeof message === 'string') assert.equal(failure.message, message);
      else assert.match(failure.message, message);
    }
  });

  it('8. deadline: the call’s own, capped at maxDeadlineMs; the cap when it set none', () => {
    const admitted = (own: number) => {
      const answer = admitCall(call('get_courses', {}, { ownDeadlineMs: own }), policy, state());
      assert.ok(!(answer instanceof SandboxError));
      return answer.deadlineMs;
    };
    assert.equal(admitted(NOW_MS + 1_000), NOW_MS + 1_000);
    assert.equal(admitted(NOW_MS + MAX_DEADLINE_MS + 1), NOW_MS + MAX_DEADLINE_MS);
    assert.equal(admitted(0), NOW_MS + MAX_DEADLINE_MS);
    assert.equal(admitted(Infinity), NOW_MS + MAX_DEADLINE_MS);
    assert.equal(capDeadline(-5, NOW_MS, MAX_DEADLINE_MS), NOW_MS + MAX_DEADLINE_MS);
  });

  it('an unexpected failure of a check is INTERNAL_ERROR naming the API', () => {
    const broken: CallAdmissionState = {
      inFlight: 0,
      authenticate: () => {
        throw new Error('boom');
      },
      takeToken: () => true,
    };
    const failure = refusal(admitCall(call('get_courses', {}), policy, broken));
    assert.equal(failure.code, 'INTERNAL_ERROR');
    assert.equal(failure.message, 'get_courses failed: boom');
  });
});

describe('admitStream', () => {
  const slots = (open: number) => ({ open, max: 2, kind: 'call streams' });

  it('admits a stream with this socket’s token and room under its limit', () => {
    assert.equal(admitStream('CallStream', GOOD, PLUGIN, new VerifiedSession(tokens, identity), slots(1)), undefined);
  });

  it('1. session token first: AUTHENTICATION_FAILED even when no slot is free', () => {
    const failure = admitStream('SubscribeEvents', undefined, PLUGIN, new VerifiedSession(tokens, identity), slots(2));
    assert.equal(failure?.code, 'AUTHENTICATION_FAILED');
    assert.equal(failure?.message, 'no session token; call Register first and send its session_token in the metadata');
  });

  it('2. room: RATE_LIMIT_EXCEEDED naming the kind and how many are open', () => {
    const failure = admitStream('CallStream', GOOD, PLUGIN, new VerifiedSession(tokens, identity), slots(2));
    assert.equal(failure?.code, 'RATE_LIMIT_EXCEEDED');
    assert.equal(failure?.message, `${PLUGIN} already has 2 call streams open, the maximum; close one first`);
  });
});
