import { createHash, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { PemConverter, X509Certificate } from './x509.ts';
import { readGrants, type CertificateGrants } from './grant-extensions.ts';

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

/** Every certificate in a PEM text (or one DER certificate). */
export function parseCertificates(data: Buffer | string): Certificate[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  if (!text.includes('-----BEGIN')) return [new Certificate(Buffer.from(data as Buffer))];
  return PemConverter.decode(text).map((der) => new Certificate(Buffer.from(der)));
}
