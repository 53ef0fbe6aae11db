import { createHash, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { PemConverter, X509Certificate } from './x509.ts';
import { derBlocks } from './der-blocks.ts';
import { readGrants, type CertificateGrants } from './grant-extensions.ts';
import { TrustError } from './trust-error.ts';

/**
 * One parsed certificate, read by two implementations: @peculiar/x509 for the extensions, and
 * Node's OpenSSL-backed X509Certificate for signatures and key details.
 */
export class Certificate {
  readonly der: Buffer;
  readonly parsed: X509Certificate;
  readonly native: NodeX509Certificate;

  constructor(der: Buffer) {
    this.der = der;
    this.parsed = new X509Certificate(der);
    this.native = new NodeX509Certificate(der);
  }

  /** `sha256:` and the hex SHA-256 of the DER, as plugin.yaml's certificate.fingerprint. */
  get fingerprint(): string {
    return `sha256:${createHash('sha256').update(this.der).digest('hex')}`;
  }

  /** Serial number as lowercase hex without leading zeros. */
  get serial(): string {
    return normalizeSerial(this.parsed.serialNumber);
  }

  get subject(): string {
    return this.parsed.subject;
  }

  get issuer(): string {
    return this.parsed.issuer;
  }

  /** "CN=…, serial 1a2b": how messages name a certificate. */
  get label(): string {
    return `'${this.subject}' (serial ${this.serial})`;
  }

  get grants(): CertificateGrants {
    return readGrants(this.parsed.extensions);
  }

  /** Whether `issuer`'s key made this certificate's signature (OpenSSL). */
  signedBy(issuer: Certificate): boolean {
    try {
      return this.native.verify(issuer.native.publicKey);
    } catch {
      return false;
    }
  }

  toPem(): string {
    return PemConverter.encode(new Uint8Array(this.der).buffer, 'CERTIFICATE');
  }
}

export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * Every certificate in a PEM text (or one DER certificate). `source` names where the bytes came
 * from (a file, or a field of the signed manifest): bytes that are not certificates, or a PEM block
 * cut short, are a CERT_MALFORMED refusal naming it, never a parser's exception.
 */
export function parseCertificates(data: Buffer | string, source = 'the certificate'): Certificate[] {
  let ders: ArrayBuffer[];
  try {
    ders = derBlocks(data);
  } catch (err) {
    throw malformed(source, err instanceof Error ? err.message : String(err), err);
  }
  return ders.map((der, index) => {
    try {
      const cert = new Certificate(Buffer.from(der));
      // Every field read now, so that a corrupt one is refused here and not thrown later.
      void [cert.subject, cert.issuer, cert.serial, cert.parsed.notBefore, cert.parsed.notAfter, cert.grants];
      return cert;
    } catch (err) {
      const which = ders.length > 1 ? `its PEM block ${index + 1}` : 'it';
      throw malformed(source, `${which} does not decode as an X.509 certificate (PEM or DER)`, err);
    }
  });
}

function malformed(source: string, detail: string, cause: unknown): TrustError {
  return new TrustError(
    'CERT_MALFORMED',
    `${source} is not a readable certificate: ${detail}; replace it with the certificate as issued (PEM or DER)`,
    { cause },
  );
}
