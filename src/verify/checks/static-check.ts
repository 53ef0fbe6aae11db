import type { SandboxConfig, TenantConfig } from '../../config/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { PluginManifest } from '../../manifest/index.ts';
import type { SignedBundle, TenantTrust, TrustError } from '../../trust/index.ts';
import type { CheckResult } from '../check-result.ts';

/** What the signature check found, shared by the checks that need the signing certificate. */
export type SignatureOutcome =
  { kind: 'signed'; bundle: SignedBundle } | { kind: 'unsigned' } | { kind: 'refused'; error: TrustError };

/** What every static check reads. Nothing here runs the plugin. */
export interface StaticContext {
  /** The plugin's directory (a .ctp is unpacked into a temporary one first). */
  root: string;
  /** The verified copy, as the orchestrator makes it before checking (snapshot of `root`). */
  snapshot: string;
  /** This run's private temporary directory (removed at its end), for what a check must write. */
  scratch: string;
  /** The orchestrator code's log (silent unless CLASSTOP_LOG_LEVEL asks). */
  log: Logger;
  config: SandboxConfig;
  tenant: TenantConfig;
  trust: TenantTrust;
  now: Date;
  /** plugin.yaml read without operator limits; undefined when it is invalid (the manifest check says why). */
  manifest: PluginManifest | undefined;
  /** Why plugin.yaml is invalid, each naming its field; empty when it is valid. */
  manifestProblems: readonly string[];
  /** undefined when there is no valid manifest to verify a signature against. */
  signature: SignatureOutcome | undefined;
  /** The line of a plugin.yaml field (`permissions.1`, `sandbox.memory_mb`), for locations. */
  manifestLine(field: string): number | undefined;
}

/**
 * One static check: a file of its own under checks/, listed in checks/index.ts. It returns one
 * result or more (each a named check with a severity), and never throws for a finding.
 */
export interface StaticCheck {
  readonly name: string;
  run(ctx: StaticContext): CheckResult[] | Promise<CheckResult[]>;
}
