import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { SandboxError } from '../errors/index.ts';
import { configSchema, type RawConfig } from './config-schema.ts';

export interface TenantConfig {
  id: string;
  permissions: readonly string[];
  privilegedPermissions: readonly string[];
  ociRuntime: string | undefined;
  /** Absolute plugin directories or `.ctp` archives. */
  plugins: readonly string[];
  trust: { roots: readonly string[]; crls: readonly string[]; allowUnsigned: boolean; clockSkewS: number };
  /** Absolute TLS file paths; undefined: the orchestrator's upstream. */
  upstream: Readonly<NonNullable<RawConfig['tenants'][number]['upstream']>> | undefined;
  callLimits: Readonly<RawConfig['tenants'][number]['callLimits']>;
  quota: Readonly<RawConfig['tenants'][number]['quota']>;
}

/** The orchestrator's configuration: parsed and validated once at start, then frozen. */
export interface SandboxConfig extends Omit<RawConfig, 'tenants'> {
  tenants: readonly TenantConfig[];
  /** HMAC key for session tokens; from CLASSTOP_SESSION_SECRET or random per process. */
  sessionSecret: Buffer;
  sandboxUid: number;
  sandboxGid: number;
}

/** Environment variables that override the file (env wins). */
const ENV_OVERRIDES: Record<string, (raw: Record<string, unknown>, value: string) => void> = {
  CLASSTOP_ORCHESTRATOR_ID: (raw, v) => (raw.orchestratorId = v),
  CLASSTOP_LOG_LEVEL: (raw, v) => (raw.logLevel = v),
  CLASSTOP_REDIS_URL: (raw, v) => (raw.redis = { ...asObject(raw.redis), url: v }),
  CLASSTOP_ADMIN_LISTEN: (raw, v) => (raw.admin = { ...asObject(raw.admin), listen: v }),
  CLASSTOP_RUNTIME_DIR: (raw, v) => (raw.runtimeDir = v),
  CLASSTOP_SHM_DIR: (raw, v) => (raw.shmDir = v),
  CLASSTOP_STATE_DIR: (raw, v) => (raw.stateDir = v),
  CLASSTOP_DOCKER_SOCKET: (raw, v) => (raw.dockerSocket = v),
  CLASSTOP_UPSTREAM: (raw, v) => (raw.upstream = { ...asObject(raw.upstream), address: v }),
};

const MIN_SECRET_BYTES = 32;

/** Loads a YAML config file (or none: embedded defaults), applies env overrides, validates. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const raw = file === undefined ? {} : readYaml(file);
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(raw, value);
  }
  const source = file ?? 'the embedded defaults';
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new SandboxError('INVALID_REQUEST', `config ${source} is invalid:\n${problems.join('\n')}`);
  }
  const baseDir = file === undefined ? process.cwd() : path.dirname(path.resolve(file));
  return freeze(parsed.data, baseDir, env, source);
}

function freeze(data: RawConfig, baseDir: string, env: NodeJS.ProcessEnv, source: string): SandboxConfig {
  const ids = data.tenants.map((t) => t.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new SandboxError('INVALID_REQUEST', `config ${source}: tenant '${duplicate}' is listed twice`);

  const secretText = env.CLASSTOP_SESSION_SECRET;
  if (secretText !== undefined && Buffer.byteLength(secretText) < MIN_SECRET_BYTES) {
    throw new SandboxError('INVALID_REQUEST', `CLASSTOP_SESSION_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const [uid, gid] = data.sandboxUser.split(':').map(Number) as [number, number];
  const tenants = data.tenants.map((t) =>
    Object.freeze({
      id: t.id,
      permissions: Object.freeze([...t.permissions]),
      privilegedPermissions: Object.freeze([...t.privilegedPermissions]),
      ociRuntime: t.ociRuntime,
      plugins: Object.freeze(t.plugins.map((p) => path.resolve(baseDir, p))),
      upstream: t.upstream && Object.freeze(resolveUpstream(t.upstream, baseDir)),
      callLimits: Object.freeze({ ...t.callLimits }),
      quota: Object.freeze({ ...t.quota }),
      trust: Object.freeze({
        roots: Object.freeze(t.trust.roots.map((p) => path.resolve(baseDir, p))),
        crls: Object.freeze(t.trust.crls.map((p) => path.resolve(baseDir, p))),
        allowUnsigned: t.trust.allowUnsigned,
        clockSkewS: t.trust.clockSkewS,
      }),
    }),
  );
  return Object.freeze({
    ...data,
    runtimeDir: path.resolve(baseDir, data.runtimeDir),
    stateDir: path.resolve(baseDir, data.stateDir),
    auditLog: data.auditLog === 'stdout' ? 'stdout' : path.resolve(baseDir, data.stateDir, data.auditLog),
    shmDir: path.resolve(baseDir, data.shmDir),
    limits: Object.freeze({ ...data.limits }),
    tenants: Object.freeze(tenants),
    sessionSecret: secretText ? Buffer.from(secretText) : randomBytes(MIN_SECRET_BYTES),
    sandboxUid: uid,
    sandboxGid: gid,
  });
}

function resolveUpstream(upstream: NonNullable<RawConfig['tenants'][number]['upstream']>, baseDir: string) {
  if (!upstream.tls) return { ...upstream };
  const at = (file: string | undefined) => (file === undefined ? undefined : path.resolve(baseDir, file));
  const tls = {
    ...upstream.tls,
    ca: path.resolve(baseDir, upstream.tls.ca),
    cert: at(upstream.tls.cert),
    key: at(upstream.tls.key),
  };
  return { ...upstream, tls };
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SandboxError('NOT_FOUND', `config ${file} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SandboxError('INVALID_REQUEST', `config ${file}: YAML syntax: ${doc.errors[0]?.message}`);
  }
  return asObject(doc.toJS());
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as object) } : {};
}
