export { TrustError, TRUST_REASONS, type TrustReason } from './trust-error.ts';
export { Certificate, parseCertificates } from './certificate.ts';
export { CrlStore } from './crl-store.ts';
export { verifyChain } from './chain-verifier.ts';
export { GRANT_URN, type CertificateGrants } from './grant-extensions.ts';
export { SIGNED_MANIFEST_FILE } from './bundle-files.ts';
export { loadTenantTrust, type TenantTrust, type TenantTrustConfig } from './tenant-trust.ts';
export {
  verifyPlugin,
  verifyBundleFor,
  checkGrants,
  checkPin,
  checkTenantAllows,
  type VerifiedPlugin,
} from './verify-plugin.ts';
export { readSignedManifest, type SignedBundle } from './signed-manifest.ts';
export { snapshotBundle } from './bundle-files.ts';
export {
  initAuthority,
  issueDeveloperCertificate,
  revokeCertificate,
  updateCrls,
  type KeyAlgorithm,
} from './authority.ts';
export { signPlugin, verifySignatureOffline } from './sign-plugin.ts';
export { packPlugin, unpackPlugin, ARCHIVE_EXTENSION } from './plugin-archive.ts';
