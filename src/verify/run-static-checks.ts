import path from 'node:path';
import type { Logger } from '../logging/index.ts';
import { loadManifest, ManifestError, NO_OPERATOR_LIMITS, type PluginManifest } from '../manifest/index.ts';
import { readSignedManifest, snapshotBundle, TrustError, verifyBundleFor } from '../trust/index.ts';
import { resultsOf, type CheckResult } from './check-result.ts';
import { manifestLineFinder, STATIC_CHECKS, type SignatureOutcome, type StaticContext } from './checks/index.ts';
import type { VerifyTarget } from './verify-target.ts';

export interface StaticOutcome {
  checks: CheckResult[];
  manifest: PluginManifest | undefined;
  signature: SignatureOutcome | undefined;
}

/** Runs every static check in order; `onResult` sees each result as it is made (the progress lines). */
export async function runStaticChecks(
  target: VerifyTarget,
  onResult: (result: CheckResult) => void,
  log: Logger,
  now = new Date(),
): Promise<StaticOutcome> {
  const ctx = buildContext(target, log, now);
  const checks: CheckResult[] = [];
  for (const check of STATIC_CHECKS) {
    const started = performance.now();
    let results: CheckResult[];
    try {
      results = await check.run(ctx);
    } catch (err) {
      const why = `the check itself failed: ${err instanceof Error ? err.message : String(err)}`;
      results = [resultsOf(check.name, 'static').error('CHECK_FAILED', `${check.name} could not be checked`, why)];
    }
    const each = (performance.now() - started) / results.length;
    for (const result of results) {
      result.durationMs = each;
      checks.push(result);
      onResult(result);
    }
  }
  return { checks, manifest: ctx.manifest, signature: ctx.signature };
}

function buildContext(target: VerifyTarget, log: Logger, now: Date): StaticContext {
  let manifest: PluginManifest | undefined;
  let manifestProblems: readonly string[] = [];
  try {
    manifest = loadManifest(target.root, NO_OPERATOR_LIMITS);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    manifestProblems = err.problems;
  }
  const snapshot = path.join(target.scratch, 'snapshot');
  return {
    root: target.root,
    snapshot,
    scratch: target.scratch,
    log,
    config: target.config,
    tenant: target.tenant,
    trust: target.trust,
    now,
    manifest,
    manifestProblems,
    signature: manifest ? verifySignature(target.root, snapshot, manifest) : undefined,
    manifestLine: manifestLineFinder(target.root),
  };
}

/** As the orchestrator does: copy to a snapshot, then read and verify the signed manifest there. */
function verifySignature(root: string, snapshot: string, manifest: PluginManifest): SignatureOutcome {
  try {
    snapshotBundle(root, snapshot, manifest.sandbox.paths.map((p) => p.relative).sort());
    const signed = readSignedManifest(snapshot);
    if (!signed) return { kind: 'unsigned' };
    return { kind: 'signed', bundle: verifyBundleFor(manifest, snapshot, signed) };
  } catch (err) {
    if (err instanceof TrustError) return { kind: 'refused', error: err };
    throw err;
  }
}
