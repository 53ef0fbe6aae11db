import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
} from './x509.ts';
import type { Certificate } from './certificate.ts';
import type { CrlStore } from './crl-store.ts';
import { TrustError } from './trust-error.ts';

const MAX_CHAIN_LENGTH = 6;
const STRONG_HASHES = ['SHA-256', 'SHA-384', 'SHA-512'];
const MIN_RSA_BITS = 2048;
const RSA_EXPONENT = 65537n;
const EC_CURVE = 'prime256v1';

export interface ChainPolicy {
  roots: readonly Certificate[];
  crls: CrlStore;
  clockSkewMs: number;
}

/**
 * Verifies a developer certificate `leaf`, with `intermediates` from its bundle, up to one of the
 * tenant's roots. Every rule is checked here explicitly rather than left to a library's defaults:
 * algorithms, issuers' signatures, each issuer a CA with keyCertSign and its pathLen respected,
 * code-signing usage on the leaf, validity with a small skew, and each issuer's CRL.
 * Returns the path from the leaf to the root.
 */
export async function verifyChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  policy: ChainPolicy,
  now: Date,
): Promise<Certificate[]> {
  for (const cert of [leaf, ...intermediates]) checkAlgorithms(cert);
  const path = buildPath(leaf, intermediates, policy.roots);
  path.forEach((cert, index) => {
    if (index > 0) checkIssuer(cert, index - 1);
    checkValidity(cert, now, policy.clockSkewMs);
  });
  checkLeafUsage(leaf);
  for (let i = 0; i + 1 < path.length; i++) {
    await policy.crls.check(path[i] as Certificate, path[i + 1] as Certificate, now, policy.clockSkewMs);
  }
  return path;
}

function buildPath(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  roots: readonly Certificate[],
): Certificate[] {
  const path = [leaf];
  let current = leaf;
  while (path.length < MAX_CHAIN_LENGTH) {
    const root = roots.find((r) => r.subject === current.issuer && current.signedBy(r));
    if (root) {
      if (root.der.equals(current.der)) return path; // the leaf is itself a trusted root
      return [...path, root];
    }
    const next = intermediates.find((c) => c.subject === current.issuer && !path.includes(c) && current.signedBy(c));
    if (!next) {
      const trusted = roots.map((r) => `'${r.subject}'`).join(', ') || 'none';
      throw new TrustError(
        'CHAIN_UNTRUSTED',
        `no trusted root issued ${current.label} (issuer '${current.issuer}'); the tenant trusts ${trusted}`,
      );
    }
    path.push(next);
    current = next;
  }
  throw new TrustError('CHAIN_UNTRUSTED', `the chain of ${leaf.label} is longer than ${MAX_CHAIN_LENGTH} certificates`);
}

/** `issuer` signs certificates, with `belowIntermediates` CA certificates between it and the leaf. */
function checkIssuer(issuer: Certificate, belowIntermediates: number): void {
  const basic = issuer.parsed.getExtension(BasicConstraintsExtension);
  if (!basic?.ca) {
    const why = basic ? 'its basicConstraints say cA:false' : 'it has no basicConstraints';
    throw new TrustError('ISSUER_NOT_CA', `${issuer.label} issued a certificate but is not a CA (${why})`);
  }
  const usage = issuer.parsed.getExtension(KeyUsagesExtension);
  if (!usage || (usage.usages & KeyUsageFlags.keyCertSign) === 0) {
    throw new TrustError('ISSUER_NOT_CA', `${issuer.label} issued a certificate but its keyUsage lacks keyCertSign`);
  }
  if (basic.pathLength !== undefined && belowIntermediates > basic.pathLength) {
    throw new TrustError(
      'PATH_LEN_EXCEEDED',
      `${issuer.label} allows ${basic.pathLength} intermediate CA(s) below it (pathLen), but the chain has ${belowIntermediates}`,
    );
  }
}

function checkLeafUsage(leaf: Certificate): void {
  const eku = leaf.parsed.getExtension(ExtendedKeyUsageExtension);
  if (!eku?.usages.includes(ExtendedKeyUsage.codeSigning)) {
    throw new TrustError(
      'CODE_SIGNING_USAGE_MISSING',
      `developer certificate ${leaf.label} lacks the codeSigning extended key usage`,
    );
  }
}

function checkValidity(cert: Certificate, now: Date, skewMs: number): void {
  const t = now.getTime();
  if (cert.parsed.notBefore.getTime() - skewMs > t) {
    throw new TrustError(
      'CERT_NOT_YET_VALID',
      `${cert.label} is not valid before ${cert.parsed.notBefore.toISOString()}`,
    );
  }
  if (cert.parsed.notAfter.getTime() + skewMs < t) {
    throw new TrustError('CERT_EXPIRED', `${cert.label} expired at ${cert.parsed.notAfter.toISOString()}`);
  }
}

function checkAlgorithms(cert: Certificate): void {
  const hash = cert.parsed.signatureAlgorithm.hash?.name ?? 'unknown';
  if (!STRONG_HASHES.includes(hash)) {
    throw new TrustError('WEAK_ALGORITHM', `${cert.label} is signed with ${hash}; SHA-256 or stronger is required`);
  }
  const key = cert.native.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw new TrustError(
        'WEAK_ALGORITHM',
        `${cert.label} has a ${details.modulusLength}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`,
      );
    }
    if (details.publicExponent !== RSA_EXPONENT) {
      throw new TrustError(
        'WEAK_ALGORITHM',
        `${cert.label} has RSA public exponent ${details.publicExponent}; 65537 is required`,
      );
    }
  } else if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== EC_CURVE) {
      throw new TrustError('WEAK_ALGORITHM', `${cert.label} uses curve ${details.namedCurve}; ECDSA P-256 is required`);
    }
  } else {
    throw new TrustError(
      'WEAK_ALGORITHM',
      `${cert.label} has a ${key.asymmetricKeyType} key; RSA or ECDSA P-256 is required`,
    );
  }
}
