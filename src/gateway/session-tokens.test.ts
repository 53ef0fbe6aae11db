import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { SessionTokens } from './session-tokens.ts';

const SECRET = Buffer.alloc(32, 1);
const ME = { tenant: 'a', pluginId: 'com.example.p', instanceId: 'i1', certificateFingerprint: 'sha256:aa' };

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'AUTHENTICATION_FAILED');
    return err.message;
  }
  assert.fail('the token was accepted');
}

describe('SessionTokens', () => {
  it('accepts its own token for the same identity until it expires', () => {
    let now = 1_000_000;
    const tokens = new SessionTokens(SECRET, 60_000, () => now);
    const { token, expiresAtMs } = tokens.issue(ME);
    assert.equal(expiresAtMs, 1_060_000);
    tokens.verify(token, ME);
    now = 1_060_000;
    assert.match(
      refusal(() => tokens.verify(token, ME)),
      /expired/,
    );
  });

  it('refuses a token for another tenant, plugin or instance', () => {
    const tokens = new SessionTokens(SECRET, 60_000);
    const { token } = tokens.issue(ME);
    for (const other of [
      { ...ME, tenant: 'b' },
      { ...ME, pluginId: 'com.example.q' },
      { ...ME, instanceId: 'i2' },
    ]) {
      assert.match(
        refusal(() => tokens.verify(token, other)),
        /another plugin instance/,
      );
    }
  });

  it('refuses tampered claims, another secret, and garbage', () => {
    const tokens = new SessionTokens(SECRET, 60_000);
    const { token } = tokens.issue(ME);
    const [v, , mac] = token.split('.');
    const claims = Buffer.from(
      JSON.stringify({ t: 'a', p: 'com.example.p', i: 'i1', f: 'sha256:aa', e: Date.now() + 1e9 }),
    ).toString('base64url');
    assert.match(
      refusal(() => tokens.verify(`${v}.${claims}.${mac}`, ME)),
      /signature is invalid/,
    );
    const other = new SessionTokens(Buffer.alloc(32, 2), 60_000);
    assert.match(
      refusal(() => other.verify(token, ME)),
      /signature is invalid/,
    );
    assert.match(
      refusal(() => tokens.verify('abc', ME)),
      /malformed/,
    );
    assert.match(
      refusal(() => tokens.verify(undefined, ME)),
      /no session token/,
    );
  });
});
