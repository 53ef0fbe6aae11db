import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PluginManifest } from '../manifest/index.ts';
import { snapshotBundle, SIGNED_MANIFEST_FILE } from './bundle-files.ts';
import { parseCertificates, type Certificate } from './certificate.ts';
import { verifyChain } from './chain-verifier.ts';
import { idMatches } from './grant-extensions.ts';
import { readSignedManifest, verifySignedBundle, type SignedBundle } from './signed-manifest.ts';
import type { TenantTrust } from './tenant-trust.ts';
import { TrustError } from './trust-error.ts';

/** A plugin that may run: the snapshot to mount, and who signed it (null when unsigned). */
export interface VerifiedPlugin {
  /** The read-only copy that was verified, and that the container runs. */
  directory: string;
  signer: { fingerprint: string; subject: string; serial: string; chain: Certificate[] } | null;
}

/**
 * Decides whether a plugin may run, before any container exists: copies it to `snapshotDir`,
 * then on that copy checks the signature over every file, the developer certificate's chain to
 * the tenant's roots (with CRLs), the fingerprint pinned in plugin.yaml, and that what the
 * manifest asks ⊆ what the certificate grants ⊆ what the tenant allows.
 */
export async function verifyPlugin(
  source: string,
  manifest: PluginManifest,
  trust: TenantTrust,
  snapshotDir: string,
  now = new Date(),
): Promise<VerifiedPlugin> {
  const excluded = manifest.sandbox.paths.map((p) => p.relative).sort();
  snapshotBundle(source, snapshotDir, excluded);
  const signedFile = readSignedManifest(snapshotDir);
  if (!signedFile) {
    if (!trust.allowUnsigned) {
      throw new TrustError(
        'UNSIGNED',
        `${manifest.id} has no ${SIGNED_MANIFEST_FILE}; sign it with \`classtop-sandbox sign\`, or set trust.allowUnsigned for tenant '${trust.tenant}' (local development only)`,
      );
    }
    checkTenantAllows(manifest, trust);
    return { directory: snapshotDir, signer: null };
  }

  const bundle = verifyBundleFor(manifest, snapshotDir, signedFile);
  const chain = await verifyChain(bundle.leaf, bundle.intermediates, trust, now);
  const leaf = bundle.leaf;
  checkPin(snapshotDir, manifest, leaf);
  checkGrants(manifest, leaf);
  checkTenantAllows(manifest, trust);
  return {
    directory: snapshotDir,
    signer: { fingerprint: leaf.fingerprint, subject: leaf.subject, serial: leaf.serial, chain },
  };
}

/**
 * The signature and every file of the snapshot, for this manifest's id, version and data paths.
 * It and the check* functions below are verifyPlugin's steps, exported for `verify`'s report of each.
 */
export function verifyBundleFor(
  manifest: PluginManifest,
  snapshotDir: string,
  signedFile: NonNullable<ReturnType<typeof readSignedManifest>>,
): SignedBundle {
  const excluded = manifest.sandbox.paths.map((p) => p.relative).sort();
  const bundle = verifySignedBundle(snapshotDir, signedFile);
  const { plugin, excluded: signedExcluded } = bundle.payload;
  if (plugin.id !== manifest.id || plugin.version !== manifest.version) {
    throw new TrustError(
      'SIGNATURE_INVALID',
      `the signature is for ${plugin.id}@${plugin.version}, but plugin.yaml is ${manifest.id}@${manifest.version}`,
    );
  }
  if ([...signedExcluded].sort().join('\n') !== excluded.join('\n')) {
    throw new TrustError(
      'SIGNATURE_INVALID',
      `the signed data paths (${signedExcluded.join(', ') || 'none'}) differ from plugin.yaml's sandbox.paths`,
    );
  }
  return bundle;
}

/** verifyPlugin's step: the pinned fingerprint and the shipped certificate are the signer's. */
export function checkPin(dir: string, manifest: PluginManifest, leaf: Certificate): void {
  const pinned = manifest.certificate.fingerprint;
  if (pinned !== leaf.fingerprint) {
    throw new TrustError(
      'FINGERPRINT_MISMATCH',
      `plugin.yaml pins certificate.fingerprint ${pinned ?? '(none)'}, but the bundle is signed by ${leaf.label} with ${leaf.fingerprint}`,
    );
  }
  const file = path.join(dir, manifest.certificate.path);
  // A missing file is a pin mismatch; one that cannot be read, or is not a certificate, is CERT_MALFORMED.
  const bytes = readIfPresent(file, manifest.certificate.path);
  const shipped = bytes ? parseCertificates(bytes, manifest.certificate.path)[0] : undefined;
  if (shipped?.fingerprint !== leaf.fingerprint) {
    throw new TrustError(
      'FINGERPRINT_MISMATCH',
      `${manifest.certificate.path} is missing or is not the signing certificate ${leaf.label}; sign the plugin again`,
    );
  }
}

/** verifyPlugin's step: the certificate grants the id and what the manifest asks. */
export function checkGrants(manifest: PluginManifest, leaf: Certificate): void {
  const grants = leaf.grants;
  if (!grants.pluginIds.some((pattern) => idMatches(pattern, manifest.id))) {
    throw new TrustError(
      'PLUGIN_ID_NOT_GRANTED',
      `developer certificate ${leaf.label} may sign ${grants.pluginIds.join(', ') || 'no plugin id'}, not ${manifest.id}`,
    );
  }
  const missing = notAllowed(manifest, grants.permissions, grants.privilegedPermissions);
  if (missing.length > 0) {
    throw new TrustError(
      'PERMISSION_NOT_GRANTED',
      `developer certificate ${leaf.label} does not grant ${missing.join(', ')} to ${manifest.id}`,
    );
  }
}

/** verifyPlugin's step: the tenant allows what the manifest asks. */
export function checkTenantAllows(manifest: PluginManifest, trust: TenantTrust): void {
  const missing = notAllowed(manifest, trust.permissions, trust.privilegedPermissions);
  if (missing.length > 0) {
    throw new TrustError(
      'PERMISSION_NOT_ALLOWED',
      `tenant '${trust.tenant}' does not allow ${missing.join(', ')} for ${manifest.id}; remove them from plugin.yaml or have the operator allow them`,
    );
  }
}

/** What the manifest asks for beyond `permissions` and `privileged`. */
function notAllowed(manifest: PluginManifest, permissions: readonly string[], privileged: readonly string[]): string[] {
  return [
    ...manifest.permissions.filter((p) => !permissions.includes(p)),
    ...manifest.privilegedPermissions.filter((p) => !privileged.includes(p)),
  ];
}

/** The file's bytes; undefined when it does not exist. Any other failure (a directory, no access) is CERT_MALFORMED. */
function readIfPresent(file: string, label: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TrustError(
      'CERT_MALFORMED',
      `${label} cannot be read (${(err as Error).message}); sign the plugin again`,
      {
        cause: err,
      },
    );
  }
}
