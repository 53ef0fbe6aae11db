import { PemConverter } from './x509.ts';

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/g;

/**
 * The DER objects in a file's bytes: each PEM block when the text has PEM markers, else the bytes
 * as one DER object. A PEM block cut off before its END line is an error here, because the PEM
 * decoder would silently skip it (a truncated CRL would then simply not count).
 */
export function derBlocks(data: Buffer | string): ArrayBuffer[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const begins = text.match(PEM_BEGIN)?.length ?? 0;
  if (begins === 0) {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return [new Uint8Array(bytes).buffer];
  }
  const ders = PemConverter.decode(text);
  if (ders.length !== begins) {
    throw new Error(
      `${begins - ders.length} of its ${begins} PEM block(s) is cut off or corrupt (a BEGIN line without its END)`,
    );
  }
  return ders;
}
