import { TrustError, verifyChain } from '../../trust/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck } from './static-check.ts';

/** A certificate that expires sooner than this is a warning: a host would refuse it soon. */
const EXPIRY_WARNING_MS = 30 * 24 * 60 * 60 * 1000;
const VALIDITY_REASONS = new Set(['CERT_EXPIRED', 'CERT_NOT_YET_VALID']);
const REVOCATION_REASONS = new Set(['CERT_REVOKED', 'CRL_MISSING', 'CRL_STALE', 'CRL_INVALID', 'CRL_MALFORMED']);

const chain = resultsOf('certificate-chain', 'static');
const validity = resultsOf('certificate-validity', 'static');
const revocation = resultsOf('revocation', 'static');

/**
 * The developer certificate's chain to the tenant's roots, its validity and each issuer's CRL: the
 * orchestrator's verifyChain, which stops at the first problem (the checks after it are skipped).
 */
export const chainCheck: StaticCheck = {
  name: 'certificate-chain',
  async run(ctx): Promise<CheckResult[]> {
    const outcome = ctx.signature;
    if (outcome?.kind !== 'signed') {
      const why = outcome?.kind === 'unsigned' ? 'the plugin is unsigned' : 'there is no valid signature';
      return [
        chain.skipped('CHAIN_NOT_CHECKED', 'certificate chain not checked', why),
        validity.skipped('VALIDITY_NOT_CHECKED', 'certificate validity not checked', why),
        revocation.skipped('REVOCATION_NOT_CHECKED', 'revocation not checked', why),
      ];
    }
    const { leaf, intermediates } = outcome.bundle;
    if (ctx.trust.roots.length === 0) {
      const why =
        'no trust root: give --trust ROOT.pem (and --crl for each issuer), or a --config whose tenant has trust.roots';
      return [
        chain.warning('CHAIN_NOT_CHECKED', 'certificate chain not checked', why),
        validity.skipped('VALIDITY_NOT_CHECKED', 'certificate validity not checked', why),
        revocation.skipped('REVOCATION_NOT_CHECKED', 'revocation not checked', why),
      ];
    }
    try {
      const path = await verifyChain(leaf, intermediates, ctx.trust, ctx.now);
      const expires = leaf.parsed.notAfter;
      const soon = expires.getTime() - ctx.now.getTime() < EXPIRY_WARNING_MS;
      const until = `${leaf.label} is valid until ${expires.toISOString()}`;
      return [
        chain.ok('CHAIN_TRUSTED', 'certificate chain trusted', path.map((c) => `'${c.subject}'`).join(' → ')),
        soon
          ? validity.warning('CERT_EXPIRES_SOON', 'the developer certificate expires within 30 days', until)
          : validity.ok('CERT_VALID', 'the developer certificate is valid', until),
        revocation.ok('NOT_REVOKED', 'no certificate in the chain is revoked', 'each issuer’s CRL is in effect'),
      ];
    } catch (err) {
      if (!(err instanceof TrustError)) throw err;
      return refused(err);
    }
  },
};

function refused(error: TrustError): CheckResult[] {
  const stopped = 'not reached: the chain verification stops at its first problem, as the orchestrator’s does';
  if (REVOCATION_REASONS.has(error.reason))
    return [
      chain.ok('CHAIN_TRUSTED', 'certificate chain trusted', 'every issuer up to a trusted root'),
      validity.ok('CERT_VALID', 'the certificates are valid', 'within their validity, with the tenant’s clock skew'),
      revocation.error(error.reason, 'revocation check failed', error.detail),
    ];
  if (VALIDITY_REASONS.has(error.reason))
    return [
      chain.skipped('CHAIN_NOT_CHECKED', 'certificate chain not fully checked', stopped),
      validity.error(error.reason, 'certificate not valid now', error.detail),
      revocation.skipped('REVOCATION_NOT_CHECKED', 'revocation not checked', stopped),
    ];
  return [
    chain.error(error.reason, 'certificate chain refused', error.detail),
    validity.skipped('VALIDITY_NOT_CHECKED', 'certificate validity not checked', stopped),
    revocation.skipped('REVOCATION_NOT_CHECKED', 'revocation not checked', stopped),
  ];
}
