import { readFileSync, statSync } from 'node:fs';
import { PemConverter, X509Crl } from './x509.ts';
import type { Certificate } from './certificate.ts';
import { normalizeSerial } from './certificate.ts';
import { TrustError } from './trust-error.ts';

interface LoadedCrl {
  file: string;
  crl: X509Crl;
}

/**
 * The certificate revocation lists a tenant trusts, read from files and read again when they
 * change. For an issuer, its CRL must be there, signed by that issuer's key, and not past its
 * nextUpdate; the serial must not be listed.
 */
export class CrlStore {
  private readonly files: readonly string[];
  private crls: LoadedCrl[] = [];
  private stamp = '';

  constructor(files: readonly string[]) {
    this.files = files;
    this.reload();
  }

  /** The serials a CRL file lists (to re-sign it with one more). */
  static serialsIn(file: string): string[] {
    return readCrls(file).flatMap(({ crl }) => crl.entries.map((e) => normalizeSerial(e.serialNumber)));
  }

  /** Reads the files again if any changed; returns whether anything was reloaded. */
  reload(): boolean {
    const stamp = this.files.map((f) => `${f}:${statOrMissing(f)}`).join('|');
    if (stamp === this.stamp) return false;
    this.crls = this.files.flatMap((file) => readCrls(file));
    this.stamp = stamp;
    return true;
  }

  /** Throws TrustError unless `issuer` has a valid, fresh CRL that does not list `cert`. */
  async check(cert: Certificate, issuer: Certificate, now: Date, skewMs: number): Promise<void> {
    const candidates = this.crls.filter((c) => c.crl.issuer === issuer.subject);
    if (candidates.length === 0) {
      throw new TrustError(
        'CRL_MISSING',
        `no CRL from issuer ${issuer.label} is configured; add the issuer's CRL to the tenant's trust.crls`,
      );
    }
    let signed: LoadedCrl | undefined;
    for (const candidate of candidates) {
      if (await verifies(candidate.crl, issuer)) {
        signed = candidate;
        break;
      }
    }
    if (!signed) {
      throw new TrustError(
        'CRL_INVALID',
        `the CRL for ${issuer.label} (${candidates[0]?.file}) is not signed by that issuer's key`,
      );
    }
    const nextUpdate = signed.crl.nextUpdate;
    if (!nextUpdate || nextUpdate.getTime() + skewMs < now.getTime()) {
      throw new TrustError(
        'CRL_STALE',
        `the CRL of ${issuer.label} (${signed.file}) was due for renewal at ${nextUpdate?.toISOString() ?? 'an unstated time'}; have the issuer publish a fresh one`,
      );
    }
    const serial = cert.serial;
    if (signed.crl.entries.some((entry) => normalizeSerial(entry.serialNumber) === serial)) {
      throw new TrustError('CERT_REVOKED', `certificate ${cert.label} is revoked by ${issuer.label} (${signed.file})`);
    }
  }
}

async function verifies(crl: X509Crl, issuer: Certificate): Promise<boolean> {
  try {
    return await crl.verify({ publicKey: issuer.parsed.publicKey });
  } catch {
    return false;
  }
}

function readCrls(file: string): LoadedCrl[] {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return [];
  }
  const text = data.toString('latin1');
  const ders = text.includes('-----BEGIN') ? PemConverter.decode(text) : [new Uint8Array(data).buffer];
  return ders.map((der) => ({ file, crl: new X509Crl(der) }));
}

function statOrMissing(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}
