import { MANIFEST_FILE } from '../../manifest/index.ts';
import { checkGrants, checkTenantAllows, TrustError } from '../../trust/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import type { StaticCheck, StaticContext } from './static-check.ts';

/** What plugin.yaml asks ⊆ what the certificate grants (id too) ⊆ what the tenant allows: the orchestrator's checks. */
export const permissionsCheck: StaticCheck = {
  name: 'permissions',
  run(ctx): CheckResult[] {
    const r = resultsOf('permissions', 'static');
    const { manifest, signature } = ctx;
    if (!manifest)
      return [r.skipped('PERMISSIONS_NOT_CHECKED', 'permissions not checked', `${MANIFEST_FILE} is invalid`)];
    const asked = [...manifest.permissions, ...manifest.privilegedPermissions].join(', ') || 'none';
    const where = location(ctx);
    const results: CheckResult[] = [];
    if (signature?.kind === 'signed') {
      const attempt = run(() => checkGrants(manifest, signature.bundle.leaf));
      results.push(
        attempt
          ? r.error(attempt.reason, 'the certificate does not grant what plugin.yaml asks', attempt.detail, where)
          : r.ok('PERMISSIONS_GRANTED', 'the certificate grants the id and every permission asked', asked, where),
      );
    } else {
      results.push(r.skipped('GRANTS_NOT_CHECKED', 'certificate grants not checked', 'there is no valid signature'));
    }
    const allowed = run(() => checkTenantAllows(manifest, ctx.trust));
    results.push(
      allowed
        ? r.error(allowed.reason, 'the tenant does not allow what plugin.yaml asks', allowed.detail, where)
        : r.ok('PERMISSIONS_ALLOWED', `tenant '${ctx.tenant.id}' allows every permission asked`, asked, where),
    );
    return results;
  },
};

function run(check: () => void): TrustError | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (err instanceof TrustError) return err;
    throw err;
  }
}

function location(ctx: StaticContext) {
  const line = ctx.manifestLine('permissions');
  return { file: MANIFEST_FILE, ...(line ? { line } : {}) };
}
