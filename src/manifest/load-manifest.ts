import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SandboxError } from '../errors/index.ts';
import { toPluginDependencies, type PluginDependencies } from './manifest-dependencies.ts';
import { DEFAULT_ENTRIES, manifestSchema, type RawManifest, type RuntimeType } from './manifest-schema.ts';
import { resolveInside } from './plugin-path.ts';
import type { Permission, PrivilegedPermission } from './permissions.ts';

export const MANIFEST_FILE = 'plugin.yaml';

/** The operator's maxima: a manifest asking for more is refused. */
export interface SandboxLimits {
  maxMemoryMb: number;
  maxCpus: number;
  maxPids: number;
  maxShmMb: number;
  maxTmpMb: number;
  allowWritablePaths: boolean;
}

/** For reading a plugin outside any operator (signing, packing, offline checks): no maxima. */
export const NO_OPERATOR_LIMITS: SandboxLimits = Object.freeze({
  maxMemoryMb: Infinity,
  maxCpus: Infinity,
  maxPids: Infinity,
  maxShmMb: Infinity,
  maxTmpMb: Infinity,
  allowWritablePaths: true,
});

export interface WhitelistedPath {
  /** As written in plugin.yaml, relative to the plugin directory. */
  relative: string;
  /** Canonical host path (realpath), proven to be inside the plugin directory. */
  hostPath: string;
  readOnly: boolean;
}

/** A call `classtop-sandbox verify` makes to an exported function (plugin.yaml `verify.calls`). */
export interface VerifyCall {
  function: string;
  /** Sent as JSON; null when plugin.yaml gives none. */
  input: unknown;
  /** When given, the result must contain it (objects: these keys with these values, recursively). */
  expect?: unknown;
}

/** A validated plugin.yaml, with its paths resolved on this host. Frozen. */
export interface PluginManifest {
  id: string;
  name: string;
  version: string;
  runtime: RuntimeType;
  /** Canonical plugin directory on the host. */
  directory: string;
  /** Entry point, relative to the plugin directory. */
  entry: string;
  permissions: readonly Permission[];
  privilegedPermissions: readonly PrivilegedPermission[];
  ipcTimeoutMs: number;
  /** plugin.yaml's certificate section: where plugin.crt is, and the pinned fingerprint. */
  certificate: { path: string; fingerprint: string | null };
  /** plugin.yaml's dependencies section: checked by the dependency step before any container. */
  dependencies: PluginDependencies;
  sandbox: {
    memoryMb: number;
    cpus: number;
    pids: number;
    shmMb: number;
    tmpMb: number;
    paths: readonly WhitelistedPath[];
  };
  /** plugin.yaml's `verify` section, for `classtop-sandbox verify`; absent when it has none. */
  verify?: { calls: readonly VerifyCall[] };
}

/** A refused manifest: every problem found, each naming the file, the field and the fix. */
export class ManifestError extends SandboxError {
  readonly file: string;
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[]) {
    super('INVALID_REQUEST', `${file} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ManifestError';
    this.file = file;
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** The entry need not exist yet (`classtop-sandbox build` is about to make it). */
  entryMayBeMissing?: boolean;
}

/** Reads, validates and resolves `DIR/plugin.yaml`. Throws ManifestError listing every problem. */
export function loadManifest(directory: string, limits: SandboxLimits, options: LoadOptions = {}): PluginManifest {
  const file = path.join(path.resolve(directory), MANIFEST_FILE);
  const raw = parseYamlFile(file);
  const parsed = manifestSchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map(describeIssue);

  // The host-side checks run on every section that is well-formed on its own, so that one pass
  // reports every problem, not only the schema's.
  const dir = path.dirname(file);
  const runtime = manifestSchema.shape.runtime.safeParse(asRecord(raw).runtime);
  const sandbox = manifestSchema.shape.sandbox.safeParse(asRecord(raw).sandbox);
  const runtimeType = runtime.success
    ? runtimeTypeOf(runtime.data.type, asRecord(asRecord(raw).metadata), problems)
    : undefined;
  const entryName = runtime.data?.entry ?? (runtimeType ? DEFAULT_ENTRIES[runtimeType] : undefined);
  const entry =
    entryName === undefined ? undefined : checkEntry(dir, entryName, options.entryMayBeMissing ?? false, problems);
  const paths = sandbox.success ? checkSandbox(dir, sandbox.data, limits, problems) : [];
  if (runtimeType !== undefined && runtimeType !== 'python' && parsed.data?.dependencies?.python_packages.length) {
    problems.push(`dependencies.python_packages: a ${runtimeType} plugin has no Python packages; remove the list`);
  }

  if (!parsed.success || problems.length > 0 || entry === undefined || runtimeType === undefined) {
    throw new ManifestError(file, problems);
  }
  const data = parsed.data;
  const realDirectory = realpathSync(dir);
  const box = data.sandbox;
  return Object.freeze({
    id: data.metadata.id,
    name: data.metadata.name,
    version: data.metadata.version,
    runtime: runtimeType,
    directory: realDirectory,
    entry: path.relative(realDirectory, entry),
    permissions: Object.freeze([...new Set(data.permissions)]),
    privilegedPermissions: Object.freeze([...new Set(data.privileged_permissions)]),
    ipcTimeoutMs: data.ipc.timeout * 1000,
    certificate: Object.freeze({
      path: path.posix.normalize(data.certificate?.path ?? 'plugin.crt'),
      fingerprint: data.certificate?.fingerprint?.toLowerCase() ?? null,
    }),
    dependencies: toPluginDependencies(data.dependencies),
    sandbox: Object.freeze({
      memoryMb: box.memory_mb,
      cpus: box.cpus,
      pids: box.pids,
      shmMb: box.shm_mb,
      tmpMb: box.tmp_mb,
      paths: Object.freeze(paths),
    }),
    ...(data.verify && {
      verify: Object.freeze({
        calls: Object.freeze(
          data.verify.calls.map((c) =>
            Object.freeze({ function: c.function, input: c.input ?? null, expect: c.expect }),
          ),
        ),
      }),
    }),
  });
}

function parseYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : String(err);
    throw new ManifestError(file, [`${reason}; every plugin directory needs a ${MANIFEST_FILE}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      file,
      doc.errors.map((e) => `YAML syntax: ${e.message}`),
    );
  }
  return doc.toJS();
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${field}: unknown field(s) ${issue.keys.join(', ')}; remove them or check the spelling`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${field}: is required`;
  }
  return `${field}: ${issue.message}`;
}

/**
 * runtime.type, or metadata.language when it is absent; undefined with the problem recorded when
 * neither says it or they disagree.
 */
function runtimeTypeOf(
  type: RuntimeType | undefined,
  metadata: Record<string, unknown>,
  problems: string[],
): RuntimeType | undefined {
  const language = manifestSchema.shape.metadata.shape.language.safeParse(metadata.language);
  if (!language.success) return undefined; // the schema's own problem names it
  if (type && language.data && type !== language.data) {
    problems.push(`metadata.language '${language.data}' disagrees with runtime.type '${type}'; make them the same`);
    return undefined;
  }
  const found = type ?? language.data;
  if (found === undefined) problems.push('runtime.type: is required (node, python or cpp)');
  return found;
}

/** The entry's canonical path, or undefined with the problem recorded. */
function checkEntry(directory: string, entry: string, mayBeMissing: boolean, problems: string[]): string | undefined {
  const resolved = resolveInside(directory, entry);
  if (!resolved.ok && resolved.missing && mayBeMissing) return path.join(realpathSync(directory), entry);
  if (resolved.ok) return resolved.path;
  problems.push(`runtime.entry: ${resolved.problem}`);
  return undefined;
}

function checkSandbox(
  directory: string,
  box: RawManifest['sandbox'],
  limits: SandboxLimits,
  problems: string[],
): WhitelistedPath[] {
  checkLimit(problems, 'sandbox.memory_mb', box.memory_mb, limits.maxMemoryMb, 'limits.maxMemoryMb');
  checkLimit(problems, 'sandbox.cpus', box.cpus, limits.maxCpus, 'limits.maxCpus');
  checkLimit(problems, 'sandbox.pids', box.pids, limits.maxPids, 'limits.maxPids');
  checkLimit(problems, 'sandbox.shm_mb', box.shm_mb, limits.maxShmMb, 'limits.maxShmMb');
  checkLimit(problems, 'sandbox.tmp_mb', box.tmp_mb, limits.maxTmpMb, 'limits.maxTmpMb');

  const paths: WhitelistedPath[] = [];
  box.paths.forEach((entry, index) => {
    const resolved = resolveInside(directory, entry.path);
    if (!resolved.ok) return problems.push(`sandbox.paths.${index}.path: ${resolved.problem}`);
    if (entry.mode === 'rw' && !limits.allowWritablePaths) {
      return problems.push(
        `sandbox.paths.${index}.mode: 'rw' is not allowed by the operator; use 'ro' or ask the operator to set limits.allowWritablePaths`,
      );
    }
    return paths.push({ relative: entry.path, hostPath: resolved.path, readOnly: entry.mode === 'ro' });
  });
  return paths;
}

function checkLimit(problems: string[], field: string, value: number, max: number, setting: string): void {
  if (value > max) {
    problems.push(
      `${field}: ${value} exceeds the operator's maximum of ${max}; lower it or ask the operator to raise ${setting}`,
    );
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
