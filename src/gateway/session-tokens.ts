import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SandboxError } from '../errors/index.ts';

/** Whom a session token is for: one instance of one plugin of one tenant, signed by one certificate. */
export interface SessionIdentity {
  tenant: string;
  pluginId: string;
  instanceId: string;
  /** The verified developer certificate's fingerprint; '' for an unsigned plugin. */
  certificateFingerprint: string;
}

interface Claims {
  t: string;
  p: string;
  i: string;
  /** Certificate fingerprint. */
  f: string;
  /** Expiry, Unix ms. */
  e: number;
}

const VERSION = 'ct1';

/**
 * Session tokens: `ct1.<claims>.<mac>`, the MAC being HMAC-SHA256 with the server secret over
 * tenant, plugin, instance, certificate and expiry. Stateless: any gateway with the secret can check one.
 */
export class SessionTokens {
  private readonly secret: KeyObject;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(secret: Buffer, ttlMs: number, now: () => number = Date.now) {
    this.secret = createSecretKey(secret);
    this.ttlMs = ttlMs;
    this.now = now;
  }

  issue(identity: SessionIdentity): { token: string; expiresAtMs: number } {
    const expiresAtMs = this.now() + this.ttlMs;
    const claims: Claims = {
      t: identity.tenant,
      p: identity.pluginId,
      i: identity.instanceId,
      f: identity.certificateFingerprint,
      e: expiresAtMs,
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${VERSION}.${body}.${this.mac(body).toString('base64url')}`, expiresAtMs };
  }

  /**
   * Throws AUTHENTICATION_FAILED unless `token` is genuine, unexpired and for `expected`; returns
   * when it expires (Unix ms).
   */
  verify(token: string | undefined, expected: SessionIdentity): number {
    if (!token) throw fail('no session token; call Register first and send its session_token in the metadata');
    const parts = token.split('.');
    const [version, body, mac] = parts;
    if (parts.length !== 3 || version !== VERSION || !isCanonicalBase64Url(body) || !isCanonicalBase64Url(mac)) {
      throw fail('malformed session token');
    }
    const given = Buffer.from(mac, 'base64url');
    const wanted = this.mac(body);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
      throw fail('session token signature is invalid');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    if (
      claims.t !== expected.tenant ||
      claims.p !== expected.pluginId ||
      claims.i !== expected.instanceId ||
      claims.f !== expected.certificateFingerprint
    ) {
      throw fail('session token belongs to another plugin instance; use the token this socket issued');
    }
    if (claims.e <= this.now()) throw fail('session token expired; call Register again');
    return claims.e;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.secret).update(`${VERSION}.${body}`).digest();
  }
}

/**
 * Whether `part` is base64url exactly as `issue` writes it: no padding, no characters outside the
 * alphabet, and the unused low bits of the last character zero. Node's decoder accepts all of
 * those, so without this check one token would have several spellings that all verify.
 */
function isCanonicalBase64Url(part: string | undefined): part is string {
  return !!part && Buffer.from(part, 'base64url').toString('base64url') === part;
}

function fail(message: string): SandboxError {
  return new SandboxError('AUTHENTICATION_FAILED', message);
}
