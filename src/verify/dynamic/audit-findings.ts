import { existsSync, readFileSync } from 'node:fs';
import type { AuditRecord } from '../../gateway/index.ts';
import { findHostApi, SYSTEM_EVENT_PERMISSIONS } from '../../host-api/index.ts';
import type { PluginManifest } from '../../manifest/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';

/** Audit records of the gateway's own RPCs, not host APIs. */
const GATEWAY_RPCS = new Set(['Register', 'SubscribeEvents', 'CallStream', 'CallApi', 'keepalive']);

/** Reads the run's audit log (JSON lines) back: the plugin's records only. */
export function readAudit(file: string, pluginId: string): AuditRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditRecord)
    .filter((record) => record.pluginId === pluginId);
}

/**
 * What the audit shows the plugin did: every host call and the gateway's decision; calls refused
 * for a permission it does not declare, or to an API that does not exist, as errors; other
 * refusals (rate, size, schema) as warnings; declared permissions it never used as warnings.
 */
export function auditFindings(records: readonly AuditRecord[], manifest: PluginManifest): CheckResult[] {
  const calls = resultsOf('host-calls', 'dynamic');
  const calledApis = records.filter((r) => !GATEWAY_RPCS.has(r.api));
  const tally = new Map<string, number>();
  for (const r of calledApis)
    tally.set(`${r.api} ${r.decision} ${r.code}`, (tally.get(`${r.api} ${r.decision} ${r.code}`) ?? 0) + 1);
  const summary = [...tally].map(([key, n]) => `${key} ×${n}`).join('\n') || 'no host calls';
  const results: CheckResult[] = [calls.ok('HOST_CALLS', `${calledApis.length} host call(s) recorded`, summary)];
  const seen = new Set<string>();
  for (const r of calledApis.filter((c) => c.decision === 'denied')) {
    const key = `${r.api}/${r.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    results.push(refusal(r, manifest));
  }
  return [...results, ...permissionUse(records, manifest)];
}

function refusal(record: AuditRecord, manifest: PluginManifest): CheckResult {
  const calls = resultsOf('host-calls', 'dynamic');
  const api = findHostApi(record.api);
  const reason = record.reason ?? record.code;
  if (!api) return calls.error('API_UNKNOWN', `called ${record.api}, which the host does not have`, reason);
  if (record.code === 'PERMISSION_DENIED')
    return calls.error(
      'PERMISSION_UNDECLARED',
      `called ${record.api} without declaring ${api.permission ?? 'its permission'}`,
      `${reason} (plugin.yaml declares ${manifest.permissions.join(', ') || 'none'}; the certificate must grant what it adds)`,
    );
  return calls.warning(record.code, `a ${record.api} call was refused`, reason);
}

/** Least privilege: each declared permission should be used by a call, or by a subscription to the system events it admits. */
function permissionUse(records: readonly AuditRecord[], manifest: PluginManifest): CheckResult[] {
  const r = resultsOf('permissions-used', 'dynamic');
  const subscribed = records.some((rec) => rec.api === 'SubscribeEvents' && rec.decision === 'allowed');
  const eventPermissions = new Set(Object.values(SYSTEM_EVENT_PERMISSIONS));
  return manifest.permissions.map((permission) => {
    const used = records.filter((rec) => rec.decision === 'allowed' && findHostApi(rec.api)?.permission === permission);
    if (used.length > 0)
      return r.ok('PERMISSION_USED', `${permission} is used`, [...new Set(used.map((u) => u.api))].join(', '));
    if (subscribed && eventPermissions.has(permission))
      return r.ok(
        'PERMISSION_USED',
        `${permission} may be used`,
        'the plugin subscribed to events, and this permission admits system events',
      );
    return r.warning(
      'PERMISSION_UNUSED',
      `${permission} is declared but was never used`,
      `no call during the run needed ${permission}; remove it from plugin.yaml if the plugin does not need it (least privilege), or add a verify call that exercises it`,
    );
  });
}
