import { z } from 'zod';
import { dependenciesSchema } from './manifest-dependencies.ts';
import { PERMISSIONS, PRIVILEGED_PERMISSIONS, isPermission, isPrivilegedPermission } from './permissions.ts';

/** Safe defaults for a plugin's sandbox: what it gets when `plugin.yaml` says nothing. */
export const SANDBOX_DEFAULTS = {
  memory_mb: 128,
  cpus: 0.5,
  pids: 64,
  shm_mb: 16,
  tmp_mb: 16,
} as const;

export const DEFAULT_IPC_TIMEOUT_S = 30;
const MAX_IPC_TIMEOUT_S = 300;

const PLUGIN_ID = /^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;
// Semantic Versioning 2.0.0, without build metadata.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const RUNTIMES = ['node', 'python', 'cpp'] as const;
export type RuntimeType = (typeof RUNTIMES)[number];

/**
 * The entry a language implies when plugin.yaml has no runtime section (appendix B's form:
 * `metadata.language` alone); appendix A's directory layout names these files.
 */
export const DEFAULT_ENTRIES: Readonly<Record<RuntimeType, string>> = {
  node: 'index.js',
  python: 'plugin.py',
  cpp: 'build/plugin.so',
};

const permission = z.string().refine(isPermission, {
  error: (issue) =>
    `unknown permission '${String(issue.input)}'; use one of ${PERMISSIONS.join(', ')}` +
    (isPrivilegedPermission(String(issue.input)) ? ' (privileged ones go under privileged_permissions)' : ''),
});

const privilegedPermission = z.string().refine(isPrivilegedPermission, {
  error: (issue) =>
    `unknown privileged permission '${String(issue.input)}'; use one of ${PRIVILEGED_PERMISSIONS.join(', ')}`,
});

/** At most this many calls in `verify.calls`: a CI check, not a test suite. */
const MAX_VERIFY_CALLS = 32;

/** One exported function `classtop-sandbox verify` calls while the plugin runs; `expect` must match its result. */
const verifyCall = z.strictObject({
  function: z.string().min(1).max(128),
  input: z.unknown().optional(),
  expect: z.unknown().optional(),
});

const whitelistedPath = z.strictObject({
  path: z.string().min(1),
  mode: z.enum(['ro', 'rw']).default('ro'),
});

export const manifestSchema = z.strictObject({
  metadata: z.strictObject({
    id: z
      .string()
      .max(128)
      .regex(
        PLUGIN_ID,
        'must be reverse-DNS such as com.example.myplugin (lowercase, at least two dot-separated parts)',
      ),
    name: z.string().min(1).max(100),
    version: z.string().regex(SEMVER, 'must be a semantic version such as 1.0.0'),
    author: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    homepage: z.string().max(500).optional(),
    language: z.enum(RUNTIMES).optional(),
  }),
  dependencies: dependenciesSchema.optional(),
  permissions: z.array(permission).default([]),
  privileged_permissions: z.array(privilegedPermission).default([]),
  certificate: z
    .strictObject({
      required: z.boolean().default(true),
      path: z.string().default('./plugin.crt'),
      fingerprint: z.string().optional(),
    })
    .optional(),
  ipc: z
    .strictObject({
      protocol: z.literal('grpc', { error: 'only grpc is supported inside a sandbox' }).default('grpc'),
      // Ignored: inside a sandbox the plugin always speaks over its unix socket.
      address: z.string().optional(),
      timeout: z.number().positive().max(MAX_IPC_TIMEOUT_S).default(DEFAULT_IPC_TIMEOUT_S),
      tls: z.unknown().optional(),
    })
    .prefault({}),
  // Optional as a whole: `metadata.language` alone says the type, and the entry defaults by it.
  runtime: z
    .strictObject({
      type: z.enum(RUNTIMES).optional(),
      entry: z.string().min(1).optional(),
    })
    .prefault({}),
  sandbox: z
    .strictObject({
      memory_mb: z.int().positive().default(SANDBOX_DEFAULTS.memory_mb),
      cpus: z.number().positive().default(SANDBOX_DEFAULTS.cpus),
      pids: z.int().positive().default(SANDBOX_DEFAULTS.pids),
      shm_mb: z.int().positive().default(SANDBOX_DEFAULTS.shm_mb),
      tmp_mb: z.int().positive().default(SANDBOX_DEFAULTS.tmp_mb),
      paths: z.array(whitelistedPath).default([]),
    })
    .prefault({}),
  // For `classtop-sandbox verify` only: the orchestrator never reads it.
  verify: z.strictObject({ calls: z.array(verifyCall).max(MAX_VERIFY_CALLS).default([]) }).optional(),
});

export type RawManifest = z.infer<typeof manifestSchema>;
