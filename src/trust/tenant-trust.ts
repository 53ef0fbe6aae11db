import { readFileSync } from 'node:fs';
import { SandboxError } from '../errors/index.ts';
import { parseCertificates, type Certificate } from './certificate.ts';
import { CrlStore } from './crl-store.ts';

/** What one tenant trusts and allows: the input of every verification for its plugins. */
export interface TenantTrust {
  tenant: string;
  roots: readonly Certificate[];
  crls: CrlStore;
  clockSkewMs: number;
  /** Unsigned plugins run (for local development); `status` shows them as unsigned. */
  allowUnsigned: boolean;
  permissions: readonly string[];
  privilegedPermissions: readonly string[];
}

export interface TenantTrustConfig {
  id: string;
  permissions: readonly string[];
  privilegedPermissions: readonly string[];
  trust: { roots: readonly string[]; crls: readonly string[]; allowUnsigned: boolean; clockSkewS: number };
}

/** Reads a tenant's root certificates and CRLs; a root file that cannot be read is a config error. */
export function loadTenantTrust(tenant: TenantTrustConfig): TenantTrust {
  const roots = tenant.trust.roots.flatMap((file) => {
    try {
      return parseCertificates(readFileSync(file), file);
    } catch (err) {
      throw new SandboxError(
        'INVALID_REQUEST',
        `tenant '${tenant.id}': trust root ${file} cannot be read as certificates: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  });
  return {
    tenant: tenant.id,
    roots,
    crls: new CrlStore(tenant.trust.crls),
    clockSkewMs: tenant.trust.clockSkewS * 1000,
    allowUnsigned: tenant.trust.allowUnsigned,
    permissions: tenant.permissions,
    privilegedPermissions: tenant.privilegedPermissions,
  };
}
