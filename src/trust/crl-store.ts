import { statSync } from 'node:fs';
import type { Certificate } from './certificate.ts';
import { readCrlFile, type LoadedCrl } from './crl-file.ts';
import { TrustError } from './trust-error.ts';

/** A CRL file that could not be read as CRLs at the last (re)load. */
export interface MalformedCrlFile {
  file: string;
  error: TrustError;
}

/**
 * The certificate revocation lists a tenant trusts, read from files and read again when they
 * change. Per issuer the newest CRL in effect decides, whatever the order of the files (as
 * `openssl verify -crl_check` does): among the CRLs signed by the issuer's key, with thisUpdate
 * reached and nextUpdate not passed, the one with the highest cRLNumber, then the latest
 * thisUpdate. A stale CRL beside a fresh one of the same issuer is simply outdated. A malformed CRL
 * file refuses every certificate it might have revoked: all of them, since its issuer is unknown.
 */
export class CrlStore {
  private readonly files: readonly string[];
  private crls: LoadedCrl[] = [];
  private broken: MalformedCrlFile[] = [];
  private stamp = '';

  constructor(files: readonly string[]) {
    this.files = files;
    this.reload();
  }

  /** The serials a CRL file lists (to re-sign it with one more); a malformed file throws CRL_MALFORMED. */
  static serialsIn(file: string): string[] {
    return readCrlFile(file).flatMap(({ serials }) => [...serials]);
  }

  /** The files that could not be read as CRLs at the last (re)load, each with its CRL_MALFORMED error. */
  get malformed(): readonly MalformedCrlFile[] {
    return this.broken;
  }

  /** Reads the files again if any changed; returns whether anything was reloaded. Never throws for bad content. */
  reload(): boolean {
    const stamp = this.files.map((f) => `${f}:${statOrMissing(f)}`).join('|');
    if (stamp === this.stamp) return false;
    const crls: LoadedCrl[] = [];
    const broken: MalformedCrlFile[] = [];
    for (const file of this.files) {
      try {
        crls.push(...readCrlFile(file));
      } catch (err) {
        if (!(err instanceof TrustError)) throw err;
        broken.push({ file, error: err });
      }
    }
    this.crls = crls;
    this.broken = broken;
    this.stamp = stamp;
    return true;
  }

  /** Throws TrustError unless `issuer`'s newest CRL in effect is there and does not list `cert`. */
  async check(cert: Certificate, issuer: Certificate, now: Date, skewMs: number): Promise<void> {
    const candidates = this.crls.filter((c) => c.issuer === issuer.subject);
    const signed: LoadedCrl[] = [];
    for (const candidate of candidates) if (await verifies(candidate, issuer)) signed.push(candidate);
    const current = newest(signed.filter((c) => inEffect(c, now, skewMs)));
    // A revocation is conclusive whatever else is wrong; anything else unknown refuses.
    if (current?.serials.has(cert.serial)) {
      throw new TrustError('CERT_REVOKED', `certificate ${cert.label} is revoked by ${issuer.label} (${current.file})`);
    }
    const broken = this.broken[0];
    if (broken) {
      throw new TrustError(
        'CRL_MALFORMED',
        `${broken.error.detail}; until then the revocation of ${cert.label} cannot be checked`,
        { cause: broken.error },
      );
    }
    if (candidates.length === 0) {
      throw new TrustError(
        'CRL_MISSING',
        `no CRL from issuer ${issuer.label} is configured; add the issuer's CRL to the tenant's trust.crls`,
      );
    }
    if (signed.length === 0) {
      throw new TrustError(
        'CRL_INVALID',
        `the CRL for ${issuer.label} (${candidates[0]?.file}) is not signed by that issuer's key`,
      );
    }
    if (!current) throw notInEffect(newest(signed) as LoadedCrl, issuer, now, skewMs);
  }
}

/** The newest CRL: highest cRLNumber (none ranks lowest), then latest thisUpdate. */
function newest(crls: readonly LoadedCrl[]): LoadedCrl | undefined {
  let best: LoadedCrl | undefined;
  for (const crl of crls) if (!best || compare(crl, best) > 0) best = crl;
  return best;
}

function compare(a: LoadedCrl, b: LoadedCrl): number {
  const an = a.number ?? -1n;
  const bn = b.number ?? -1n;
  if (an !== bn) return an > bn ? 1 : -1;
  return a.thisUpdate.getTime() - b.thisUpdate.getTime();
}

function inEffect(crl: LoadedCrl, now: Date, skewMs: number): boolean {
  const t = now.getTime();
  return (
    crl.thisUpdate.getTime() - skewMs <= t && crl.nextUpdate !== undefined && crl.nextUpdate.getTime() + skewMs >= t
  );
}

function notInEffect(crl: LoadedCrl, issuer: Certificate, now: Date, skewMs: number): TrustError {
  if (crl.thisUpdate.getTime() - skewMs > now.getTime()) {
    return new TrustError(
      'CRL_INVALID',
      `the CRL of ${issuer.label} (${crl.file}) is dated in the future (thisUpdate ${crl.thisUpdate.toISOString()}); check the issuer's clock`,
    );
  }
  return new TrustError(
    'CRL_STALE',
    `the CRL of ${issuer.label} (${crl.file}) was due for renewal at ${crl.nextUpdate?.toISOString() ?? 'an unstated time'}; have the issuer publish a fresh one`,
  );
}

async function verifies(loaded: LoadedCrl, issuer: Certificate): Promise<boolean> {
  try {
    return await loaded.crl.verify({ publicKey: issuer.parsed.publicKey });
  } catch {
    return false;
  }
}

function statOrMissing(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}
