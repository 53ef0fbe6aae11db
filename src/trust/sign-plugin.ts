import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { SandboxError } from '../errors/index.ts';
import {
  loadManifest,
  MANIFEST_FILE,
  PERMISSIONS,
  PRIVILEGED_PERMISSIONS,
  NO_OPERATOR_LIMITS,
} from '../manifest/index.ts';
import { readPrivateKey } from './authority.ts';
import { parseCertificates } from './certificate.ts';
import { CrlStore } from './crl-store.ts';
import { readSignedManifest, verifySignedBundle, writeSignedManifest } from './signed-manifest.ts';
import type { TenantTrust } from './tenant-trust.ts';
import { verifyPlugin } from './verify-plugin.ts';

/**
 * `sign DIR`: writes the developer certificate to plugin.crt, pins its fingerprint in plugin.yaml,
 * then writes CLASSTOP-MANIFEST.json with every file's SHA-256, signed with `keyFile`.
 */
export function signPlugin(dir: string, keyFile: string, certFile: string) {
  const key = readPrivateKey(keyFile);
  const certificates = parseCertificates(readFileSync(certFile), certFile);
  const [leaf, ...rest] = certificates;
  if (!leaf) throw new SandboxError('INVALID_REQUEST', `${certFile} holds no certificate`);
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(leaf.native.publicKey))) {
    throw new SandboxError('INVALID_REQUEST', `${keyFile} is not the private key of ${leaf.label} in ${certFile}`);
  }
  const intermediates = rest.filter((c) => c.subject !== c.issuer); // a root is the verifier's, not the bundle's

  let manifest = loadManifest(dir, NO_OPERATOR_LIMITS);
  writeFileSync(path.join(manifest.directory, manifest.certificate.path), leaf.toPem());
  if (manifest.certificate.fingerprint !== leaf.fingerprint) {
    pinFingerprint(path.join(manifest.directory, MANIFEST_FILE), leaf.fingerprint);
    manifest = loadManifest(dir, NO_OPERATOR_LIMITS);
  }
  const excluded = manifest.sandbox.paths.map((p) => p.relative).sort();
  const payload = writeSignedManifest(
    manifest.directory,
    { id: manifest.id, version: manifest.version },
    excluded,
    key,
    [leaf, ...intermediates],
  );
  return {
    plugin: `${manifest.id}@${manifest.version}`,
    files: Object.keys(payload.files).length,
    signer: leaf.label,
    fingerprint: leaf.fingerprint,
  };
}

/** Sets certificate.fingerprint in plugin.yaml, keeping its comments and layout. */
function pinFingerprint(file: string, fingerprint: string): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (!doc.hasIn(['certificate', 'path'])) doc.setIn(['certificate', 'path'], './plugin.crt');
  if (!doc.hasIn(['certificate', 'required'])) doc.setIn(['certificate', 'required'], true);
  doc.setIn(['certificate', 'fingerprint'], fingerprint);
  writeFileSync(file, String(doc));
}

/**
 * `verify-signature DIR`: the signature and every file; with trust roots (and CRLs), the whole
 * verification the orchestrator does, as a tenant that allows every permission. Offline.
 */
export async function verifySignatureOffline(dir: string, roots: string[], crls: string[]): Promise<string[]> {
  const manifest = loadManifest(dir, NO_OPERATOR_LIMITS);
  const signed = readSignedManifest(manifest.directory);
  if (!signed)
    throw new SandboxError(
      'AUTHENTICATION_FAILED',
      `UNSIGNED: ${manifest.directory} has no signed manifest; run \`classtop-sandbox sign\``,
    );
  const bundle = verifySignedBundle(manifest.directory, signed);
  const grants = bundle.leaf.grants;
  const lines = [
    `plugin: ${manifest.id}@${manifest.version}`,
    `signed by: ${bundle.leaf.label}, ${bundle.leaf.fingerprint}, at ${bundle.payload.signedAt}`,
    `files: ${Object.keys(bundle.payload.files).length} listed, all present and unchanged`,
    `certificate grants: plugin ids ${grants.pluginIds.join(', ') || 'none'}; permissions ${[...grants.permissions, ...grants.privilegedPermissions].join(', ') || 'none'}`,
  ];
  if (roots.length === 0) return [...lines, 'chain: not checked (give --trust ROOT.pem to check it)'];
  const trust: TenantTrust = {
    tenant: 'offline',
    roots: roots.flatMap((f) => parseCertificates(readTrustFile(f), f)),
    crls: new CrlStore(crls),
    clockSkewMs: 0,
    allowUnsigned: false,
    permissions: PERMISSIONS,
    privilegedPermissions: PRIVILEGED_PERMISSIONS,
  };
  const scratch = mkdtempSync(path.join(tmpdir(), 'classtop-verify-'));
  try {
    const verified = await verifyPlugin(manifest.directory, manifest, trust, path.join(scratch, 'bundle'));
    const chain = verified.signer?.chain.map((c) => `'${c.subject}'`).join(' → ') ?? '';
    return [
      ...lines,
      `chain: ${chain} (trusted${crls.length > 0 ? ', CRLs checked' : ', no CRLs given'})`,
      'result: ok',
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function readTrustFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SandboxError('NOT_FOUND', `--trust ${file} cannot be read: ${why}`, { cause: err });
  }
}
