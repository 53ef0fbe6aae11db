import type { SessionCheck } from './admission.ts';
import type { SessionIdentity, SessionTokens } from './session-tokens.ts';

/**
 * The session check of one gateway socket: a token must be the one issued for this socket's
 * identity. The token last verified, and its expiry, are remembered, so the same token is not
 * re-MACed on every call.
 */
export class VerifiedSession implements SessionCheck {
  private readonly tokens: SessionTokens;
  private readonly identity: SessionIdentity;
  private verified: { token: string; expiresAtMs: number } | undefined;

  constructor(tokens: SessionTokens, identity: SessionIdentity) {
    this.tokens = tokens;
    this.identity = identity;
  }

  authenticate(token: string | undefined): void {
    const known = this.verified;
    if (known !== undefined && token === known.token && Date.now() < known.expiresAtMs) return;
    const expiresAtMs = this.tokens.verify(token, this.identity);
    this.verified = { token: token as string, expiresAtMs };
  }
}
