import { readFileSync } from 'node:fs';
import { derBlocks } from './der-blocks.ts';
import { Extension, X509Crl } from './x509.ts';
import { normalizeSerial } from './certificate.ts';
import { TrustError } from './trust-error.ts';

/** The cRLNumber extension (RFC 5280 5.2.3): an INTEGER of at most 20 octets. */
const CRL_NUMBER_OID = '2.5.29.20';
const MAX_CRL_NUMBER_OCTETS = 20;
const DER_INTEGER_TAG = 0x02;

/** One CRL as read from a file, with the fields the store decides on. */
export interface LoadedCrl {
  file: string;
  crl: X509Crl;
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** cRLNumber; undefined when the CRL has none (it then ranks below every numbered one). */
  number: bigint | undefined;
  /** Revoked serials, normalised as Certificate.serial. */
  serials: ReadonlySet<string>;
}

/**
 * Every CRL in `file` (PEM, possibly several, or one DER). A file that does not exist holds none
 * (its issuer then has no CRL: CRL_MISSING at verification). Bytes that are not CRLs, or a PEM
 * block cut short, are a CRL_MALFORMED refusal naming the file, never a parser's exception.
 */
export function readCrlFile(file: string): LoadedCrl[] {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    // Only a file that is not there means "no CRL"; one that cannot be read is not a CRL to trust.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw malformedCrl(file, `it cannot be read (${(err as Error).message})`, err);
  }
  let ders: ArrayBuffer[];
  try {
    ders = derBlocks(data);
  } catch (err) {
    throw malformedCrl(file, err instanceof Error ? err.message : String(err), err);
  }
  return ders.map((der, index) => {
    try {
      return loaded(file, new X509Crl(der));
    } catch (err) {
      const which = ders.length > 1 ? `its PEM block ${index + 1}` : 'it';
      throw malformedCrl(file, `${which} does not decode as an X.509 CRL (PEM or DER)`, err);
    }
  });
}

/** Reads every field now, so that a corrupt one is refused here and not thrown during a check. */
function loaded(file: string, crl: X509Crl): LoadedCrl {
  const extension = crl.extensions.find((e) => e.type === CRL_NUMBER_OID);
  return {
    file,
    crl,
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    number: extension ? derUnsignedInteger(extension.value) : undefined,
    serials: new Set(crl.entries.map((entry) => normalizeSerial(entry.serialNumber))),
  };
}

/** The highest cRLNumber among the CRLs in `file` (0 when it has none, or no numbered CRL). */
export function highestCrlNumber(file: string): bigint {
  return readCrlFile(file).reduce(
    (highest, crl) => (crl.number !== undefined && crl.number > highest ? crl.number : highest),
    0n,
  );
}

/** A cRLNumber extension (non-critical, as RFC 5280 requires) holding `number`. */
export function crlNumberExtension(number: bigint): Extension {
  let hex = number.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // DER INTEGERs are signed: a leading byte with its top bit set needs a zero byte before it.
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  const content = Buffer.from(hex, 'hex');
  const der = Buffer.concat([Buffer.from([DER_INTEGER_TAG, content.length]), content]);
  return new Extension(CRL_NUMBER_OID, false, der);
}

function derUnsignedInteger(value: ArrayBuffer): bigint {
  const bytes = new Uint8Array(value);
  const length = bytes[1] ?? 0;
  if (
    bytes[0] !== DER_INTEGER_TAG ||
    length === 0 ||
    length > MAX_CRL_NUMBER_OCTETS + 1 ||
    bytes.length !== length + 2
  ) {
    throw new Error('its cRLNumber is not a DER INTEGER of at most 20 octets');
  }
  return BigInt(`0x${Buffer.from(bytes.subarray(2)).toString('hex')}`);
}

function malformedCrl(file: string, detail: string, cause?: unknown): TrustError {
  return new TrustError(
    'CRL_MALFORMED',
    `CRL file ${file} is not a readable CRL: ${detail}; replace it with the issuer's current CRL (PEM or DER)`,
    { cause },
  );
}
