import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type SandboxConfig } from '../../config/index.ts';
import type { VerifyTarget } from '../verify-target.ts';

/**
 * One crash is reported, not restarted: verify says what happened rather than retrying it, and
 * a lifecycle job that fails is not retried either.
 */
const CRASH_LOOP_RESTARTS = 1;
const JOB_ATTEMPTS = 1;

/**
 * The orchestrator's config for one verify run: the tenant's permissions, limits, quota and trust,
 * the config's Docker engine, images, sandbox user and limits (the production profile), one
 * plugin, and everything else private to this run (its own id, directories, audit log, Redis).
 * Read back through loadConfig, so that it is validated like any other.
 */
export function dynamicConfig(target: VerifyTarget, plugin: string, allowUnsigned: boolean): SandboxConfig {
  const { config, tenant, scratch } = target;
  const id = `verify-${randomBytes(4).toString('hex')}`;
  const raw = {
    orchestratorId: id,
    logLevel: 'silent',
    dockerSocket: config.dockerSocket,
    stateDir: path.join(scratch, 'state'),
    runtimeDir: path.join(scratch, 'run'),
    shmDir: `/dev/shm/classtop-${id}`,
    auditLog: path.join(scratch, 'audit.log'),
    admin: { listen: '127.0.0.1:0' },
    sessionTokenTtlS: config.sessionTokenTtlS,
    sandboxUser: config.sandboxUser,
    images: config.images,
    limits: config.limits,
    startTimeoutMs: config.startTimeoutMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    supervision: { ...config.supervision, crashLoopRestarts: CRASH_LOOP_RESTARTS },
    lifecycle: { ...config.lifecycle, attempts: JOB_ATTEMPTS },
    tenants: [
      {
        id: tenant.id,
        permissions: tenant.permissions,
        privilegedPermissions: tenant.privilegedPermissions,
        ...(tenant.ociRuntime ? { ociRuntime: tenant.ociRuntime } : {}),
        callLimits: tenant.callLimits,
        quota: tenant.quota,
        trust: { ...tenant.trust, allowUnsigned },
        plugins: [plugin],
      },
    ],
  };
  const file = path.join(scratch, 'orchestrator.yaml');
  writeFileSync(file, stringify(raw), { mode: 0o600 });
  // No environment overrides: they were applied to the config this one is made from.
  return loadConfig(file, {});
}
