import type { Logger } from '../logging/index.ts';
import { TrustError, type TenantTrust, type VerifiedPlugin } from '../trust/index.ts';

/**
 * Checks a running plugin's signer chain against the CRLs as they are now: the CERT_REVOKED
 * refusal when a certificate in it is revoked (the caller disables the plugin). Any other failure
 * of the check is logged and the plugin keeps running.
 */
export async function findRevocation(
  signer: VerifiedPlugin['signer'],
  trust: TenantTrust,
  now: Date,
  log: Logger,
): Promise<TrustError | undefined> {
  const chain = signer?.chain;
  if (!chain) return undefined;
  try {
    for (let i = 0; i + 1 < chain.length; i++) {
      await trust.crls.check(chain[i]!, chain[i + 1]!, now, trust.clockSkewMs);
    }
    return undefined;
  } catch (err) {
    if (!(err instanceof TrustError) || err.reason !== 'CERT_REVOKED') {
      log.warn({ err }, 'CRL check of a running plugin failed; it keeps running');
      return undefined;
    }
    log.error({ reason: err.reason, detail: err.message }, 'certificate revoked while running: disabling the plugin');
    return err;
  }
}
