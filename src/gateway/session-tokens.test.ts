import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { SessionTokens } from './session-tokens.ts';

const SECRET = Buffer.alloc(32, 1);
const ME = { tenant: 'a', pluginId: 'com.example.p', instanceId: 'i1', certificateFingerprint: 'sha256:aa' };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Another spelling of the same bytes: the lowest of the unused bits of the last character set.
 * A length that is a multiple of 4 has no unused bits (undefined).
 */
function flipUnusedBits(part: string): string | undefined {
  if (part.length % 4 === 0) return undefined;
  const last = BASE64URL.indexOf(part.at(-1) ?? '');
  return part.slice(0, -1) + BASE64URL[last ^ 1];
}

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

  it('accepts only the canonical encoding of each part: other spellings of the same bytes are refused', () => {
    let now = 1_000_000;
    const tokens = new SessionTokens(SECRET, 60_000, () => now);
    // An instance id that leaves unused bits in the claims part too (its length not a multiple of 4).
    const me = [ME, { ...ME, instanceId: 'i12' }, { ...ME, instanceId: 'i123' }].find(
      (id) => tokens.issue(id).token.split('.')[1]!.length % 4 !== 0,
    );
    assert.ok(me);
    const { token } = tokens.issue(me);
    const parts = token.split('.');
    for (const index of [1, 2]) {
      const flipped = flipUnusedBits(parts[index]!);
      assert.ok(flipped, `part ${index} has unused bits`);
      assert.deepEqual(Buffer.from(flipped, 'base64url'), Buffer.from(parts[index]!, 'base64url'), 'same bytes');
      const forged = parts.map((part, i) => (i === index ? flipped : part)).join('.');
      assert.match(
        refusal(() => tokens.verify(forged, me)),
        /malformed session token/,
      );
    }
    for (const forged of [`${token}=`, `${parts[0]}.${parts[1]}=.${parts[2]}`, `${token}.x`, `${token}.`]) {
      assert.match(
        refusal(() => tokens.verify(forged, me)),
        /malformed session token/,
      );
    }
    now += 1;
    assert.equal(tokens.verify(token, me), 1_060_000, 'the genuine token is still accepted');
  });
});
