import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type SandboxConfig } from '../config/index.ts';

/** The one tenant `dev` runs its plugin in: it alone allows unsigned plugins. */
export const DEV_TENANT = 'dev';
/** Where a dev session's shared-memory directories go (must be on /dev/shm to be shared memory). */
const SHM_ROOT = '/dev/shm';
/**
 * A dev save that breaks the plugin fails its reload once: retrying the same broken files
 * cannot help, and the next save submits a new job anyway.
 */
const DEV_JOB_ATTEMPTS = 1;
/**
 * The only environment overrides `dev` honours: which engine and how much logging. Redis, the
 * upstream host, the orchestrator id and the state directories of an operator's environment are
 * never used, so a dev session cannot reach production data or containers.
 */
const DEV_ENV = ['CLASSTOP_DOCKER_SOCKET', 'CLASSTOP_LOG_LEVEL'] as const;

export interface DevConfigRequest {
  /** An operator's config whose sandbox profile (images, limits, engine, uid) the session borrows. */
  lentFrom: string | undefined;
  /** The session's temporary directory: config, Redis, sockets, state and the plugin's copies. */
  root: string;
  /** The staged copy of the plugin the dev tenant runs first. */
  plugin: string;
  /** `HOST:PORT` of the admin API. */
  adminListen: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The configuration of a dev session, written to ROOT/dev-config.yaml and loaded (so it passes
 * the same validation as any config). Only the sandbox profile comes from `lentFrom`: its tenants,
 * trust, Redis, upstream, admin address and directories never do. The one tenant is `dev`, with
 * every ordinary permission, no privileged one, and `trust.allowUnsigned`; Redis is the session's
 * own (no URL: the caller starts one), the host the built-in one.
 */
export function devConfig(request: DevConfigRequest): SandboxConfig {
  const env = request.env ?? process.env;
  const honoured = Object.fromEntries(DEV_ENV.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
  const lent = request.lentFrom === undefined ? undefined : loadConfig(request.lentFrom, honoured);
  const id = `dev-${randomBytes(4).toString('hex')}`;
  const raw = {
    orchestratorId: id,
    logLevel: 'debug', // the readable log (dev-log.ts) picks what to show
    admin: { listen: request.adminListen },
    upstream: { address: 'builtin' },
    runtimeDir: path.join(request.root, 'run'),
    stateDir: path.join(request.root, 'state'),
    shmDir: path.join(SHM_ROOT, `classtop-${id}`),
    auditLog: path.join(request.root, 'audit.log'),
    lifecycle: { queueName: 'dev', attempts: DEV_JOB_ATTEMPTS },
    ...(lent ? sandboxProfile(lent) : {}),
    tenants: [{ id: DEV_TENANT, plugins: [request.plugin], trust: { allowUnsigned: true } }],
  };
  const file = path.join(request.root, 'dev-config.yaml');
  writeFileSync(file, `# Written by classtop-sandbox dev for one session; removed when it stops.\n${stringify(raw)}`, {
    mode: 0o600,
  });
  return loadConfig(file, honoured);
}

/** What a dev session borrows from an operator's config: how plugins are sandboxed, nothing else. */
function sandboxProfile(lent: SandboxConfig) {
  return {
    dockerSocket: lent.dockerSocket,
    sandboxUser: `${lent.sandboxUid}:${lent.sandboxGid}`,
    images: { ...lent.images },
    limits: { ...lent.limits },
    startTimeoutMs: lent.startTimeoutMs,
    supervision: { ...lent.supervision, containerHealth: { ...lent.supervision.containerHealth } },
  };
}
