import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type SandboxConfig, type TenantConfig } from '../config/index.ts';
import { ARCHIVE_EXTENSION, loadTenantTrust, unpackPlugin, type TenantTrust } from '../trust/index.ts';

/** The tenant verify stands in for when --config names none: every ordinary permission, default limits. */
const DEFAULT_TENANT_ID = 'verify';

export interface VerifyInput {
  /** A plugin directory or a packed .ctp. */
  source: string;
  /** --trust ROOT.pem and --crl CRL files, added to the tenant's own. */
  trust: readonly string[];
  crls: readonly string[];
  /** --config: lends its first tenant's permissions, limits, quota and trust, and its Docker socket and images. */
  configFile: string | undefined;
}

/** The plugin to verify and the tenant it is verified for. close() removes the scratch directory. */
export interface VerifyTarget {
  source: string;
  /** The plugin's directory (a .ctp unpacked into `scratch`). */
  root: string;
  config: SandboxConfig;
  tenant: TenantConfig;
  trust: TenantTrust;
  /** A private temporary directory for this run (snapshot, unpacked archive, the dynamic run's files). */
  scratch: string;
  close(): void;
}

export async function openTarget(input: VerifyInput): Promise<VerifyTarget> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'classtop-verify-'));
  const close = () => rmSync(scratch, { recursive: true, force: true });
  try {
    const config = loadConfig(input.configFile);
    const base = config.tenants[0] ?? defaultTenant(scratch);
    const tenant: TenantConfig = {
      ...base,
      trust: {
        ...base.trust,
        roots: [...base.trust.roots, ...input.trust.map((f) => path.resolve(f))],
        crls: [...base.trust.crls, ...input.crls.map((f) => path.resolve(f))],
      },
    };
    const trust = loadTenantTrust(tenant);
    let root = path.resolve(input.source);
    if (input.source.endsWith(ARCHIVE_EXTENSION)) {
      root = path.join(scratch, 'unpacked');
      await unpackPlugin(input.source, root);
    }
    return { source: input.source, root, config, tenant, trust, scratch, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** A tenant with the config schema's defaults, read the way every config is (environment overrides too). */
function defaultTenant(scratch: string): TenantConfig {
  const file = path.join(scratch, 'default-tenant.yaml');
  writeFileSync(file, stringify({ tenants: [{ id: DEFAULT_TENANT_ID }] }));
  return loadConfig(file).tenants[0] as TenantConfig;
}
