import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseCertificates, type Certificate } from './certificate.ts';
import { hashBundle, hashFile, listBundleFiles, SIGNED_MANIFEST_FILE } from './bundle-files.ts';
import { TrustError } from './trust-error.ts';

const FORMAT = 'classtop-signed-manifest/1';

/** What is signed: the plugin, every file's SHA-256, and the paths left out (data directories). */
export interface ManifestPayload {
  plugin: { id: string; version: string };
  files: Record<string, string>;
  excluded: string[];
  signedAt: string;
}

interface SignedManifestFile {
  format: string;
  /** The JSON text of a ManifestPayload: the exact bytes that are signed. */
  payload: string;
  /** Base64 signature over `payload` (SHA-256; RSA PKCS#1 v1.5 or ECDSA). */
  signature: string;
  /** PEM certificates: the developer's first, then intermediates up to (not including) the root. */
  chain: string[];
}

export interface SignedBundle {
  payload: ManifestPayload;
  leaf: Certificate;
  intermediates: Certificate[];
}

/** Writes DIR/CLASSTOP-MANIFEST.json: every file's hash, signed with `key`, with the chain. */
export function writeSignedManifest(
  dir: string,
  plugin: { id: string; version: string },
  excluded: string[],
  key: KeyObject,
  chain: readonly Certificate[],
  now = new Date(),
): ManifestPayload {
  const files = hashBundle(dir, listBundleFiles(dir, excluded));
  const payload: ManifestPayload = { plugin, files, excluded, signedAt: now.toISOString() };
  const text = JSON.stringify(payload);
  const signed: SignedManifestFile = {
    format: FORMAT,
    payload: text,
    signature: cryptoSign('sha256', Buffer.from(text), key).toString('base64'),
    chain: chain.map((c) => c.toPem()),
  };
  writeFileSync(path.join(dir, SIGNED_MANIFEST_FILE), `${JSON.stringify(signed, null, 2)}\n`);
  return payload;
}

/** Whether the directory carries a signed manifest at all. */
export function readSignedManifest(dir: string): SignedManifestFile | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dir, SIGNED_MANIFEST_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as SignedManifestFile;
    if (
      parsed.format !== FORMAT ||
      typeof parsed.payload !== 'string' ||
      typeof parsed.signature !== 'string' ||
      !Array.isArray(parsed.chain) ||
      !parsed.chain.every((pem) => typeof pem === 'string')
    )
      throw new Error('bad shape');
    return parsed;
  } catch {
    throw new TrustError(
      'SIGNATURE_INVALID',
      `${SIGNED_MANIFEST_FILE} is not a ${FORMAT} document; sign the plugin again`,
    );
  }
}

/**
 * Checks the signature over the payload with the leaf's key, then every file: a changed, extra or
 * missing file, or a symlink, fails. The chain itself is checked by verifyChain.
 */
export function verifySignedBundle(dir: string, file: SignedManifestFile): SignedBundle {
  const certificates = file.chain.flatMap((pem, index) =>
    parseCertificates(pem, `${SIGNED_MANIFEST_FILE} chain[${index}]`),
  );
  const [leaf, ...intermediates] = certificates;
  if (!leaf) throw new TrustError('SIGNATURE_INVALID', `${SIGNED_MANIFEST_FILE} carries no certificate`);
  const signature = Buffer.from(file.signature, 'base64');
  if (!cryptoVerify('sha256', Buffer.from(file.payload), leaf.native.publicKey, signature)) {
    throw new TrustError('SIGNATURE_INVALID', `the signature in ${SIGNED_MANIFEST_FILE} was not made by ${leaf.label}`);
  }
  const payload = JSON.parse(file.payload) as ManifestPayload;
  const present = listBundleFiles(dir, payload.excluded);
  const listed = Object.keys(payload.files);
  const extra = present.filter((f) => !Object.hasOwn(payload.files, f));
  if (extra.length > 0)
    throw new TrustError('FILE_EXTRA', `file(s) not covered by the signature: ${extra.join(', ')}`, { files: extra });
  const missing = listed.filter((f) => !present.includes(f));
  if (missing.length > 0)
    throw new TrustError('FILE_MISSING', `signed file(s) missing: ${missing.join(', ')}`, { files: missing });
  const changed = listed.filter((f) => hashFile(path.join(dir, f)) !== payload.files[f]);
  if (changed.length > 0)
    throw new TrustError('FILE_TAMPERED', `file(s) changed after signing: ${changed.join(', ')}`, {
      files: changed,
    });
  return { payload, leaf, intermediates };
}
