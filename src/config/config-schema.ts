import semver from 'semver';
import { z } from 'zod';
import { CLASSTOP_HOST_VERSION } from '../host-api/index.ts';
import { PERMISSIONS, PRIVILEGED_PERMISSIONS } from '../manifest/index.ts';

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,30}$/;
const ORCHESTRATOR_ID = /^[a-z0-9][a-z0-9-]{0,23}$/;
/** The ClassTop version a host implements; plugins' `dependencies.classtop_version` is checked against it. */
const classtopVersion = z.string().refine((v) => semver.valid(v) !== null, 'must be a version such as 2.0.0');
const LISTEN = /^(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):\d{1,5}$/;

const tenantSchema = z.strictObject({
  id: z.string().regex(TENANT_ID, 'must be 1-31 lowercase letters, digits or "-", starting with a letter or digit'),
  /** Permissions this tenant's plugins may hold; all ordinary ones when omitted. */
  permissions: z.array(z.enum(PERMISSIONS)).default([...PERMISSIONS]),
  privilegedPermissions: z.array(z.enum(PRIVILEGED_PERMISSIONS)).default([]),
  /** OCI runtime for this tenant's containers (for example `runsc`); the engine default when omitted. */
  ociRuntime: z.string().optional(),
  /** Plugin directories or packed `.ctp` archives, relative to the config file. */
  plugins: z.array(z.string().min(1)).default([]),
  /** This tenant's host, when not the orchestrator's `upstream`: `HOST:PORT` or `unix:///path`, with TLS. */
  upstream: z
    .strictObject({
      address: z.string().min(1),
      /** The ClassTop version this host implements; the orchestrator's `upstream.classtopVersion` when omitted. */
      classtopVersion: classtopVersion.optional(),
      tls: z
        .strictObject({
          /** PEM CA bundle that signed the host's certificate. */
          ca: z.string().min(1),
          /** Client certificate and key (mutual TLS), when the host asks for one. */
          cert: z.string().optional(),
          key: z.string().optional(),
          /** Name to check in the host's certificate, when it differs from the address. */
          serverName: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  /** Limits on every plugin's calls through its gateway. */
  callLimits: z
    .strictObject({
      /** Token bucket per plugin: sustained calls per second, and the burst above it. */
      callsPerSecond: z.number().positive().default(200),
      burst: z.int().positive().default(400),
      maxConcurrentCalls: z.int().positive().default(32),
      maxStreams: z.int().positive().default(4),
      /** Largest message either way, and largest metadata, in bytes. */
      maxMessageBytes: z
        .int()
        .positive()
        .max(64 * 1024 * 1024)
        .default(4 * 1024 * 1024),
      maxMetadataBytes: z
        .int()
        .positive()
        .default(8 * 1024),
      /** Longest deadline forwarded upstream; a call without one gets this. */
      maxDeadlineMs: z.int().positive().default(5_000),
      /**
       * Shortest interval between a plugin's HTTP/2 pings while a call is open; after two pings
       * sooner than this, with no headers or data sent to it in between, its connection is closed
       * with GOAWAY "too_many_pings" (gRPC core's keepalive enforcement; see ping-policy.ts).
       */
      minPingIntervalMs: z.int().positive().default(10_000),
    })
    .prefault({}),
  /** What the tenant may run at once; an enable beyond it is refused. */
  quota: z
    .strictObject({
      plugins: z.int().positive().default(50),
      memoryMb: z.int().positive().default(8_192),
      cpus: z.number().positive().default(8),
    })
    .prefault({}),
  /** Whose signatures this tenant's plugins must carry. */
  trust: z
    .strictObject({
      /** PEM files of trusted root certificates. */
      roots: z.array(z.string().min(1)).default([]),
      /** PEM or DER CRL files, one per issuer in the chains (roots and intermediates). */
      crls: z.array(z.string().min(1)).default([]),
      /** Run unsigned plugins (local development only); status shows them as unsigned. */
      allowUnsigned: z.boolean().default(false),
      clockSkewS: z.int().min(0).max(3_600).default(300),
    })
    .prefault({}),
});

export const configSchema = z.strictObject({
  /** Names this orchestrator's containers, sockets and shm directories; two on one host differ. */
  orchestratorId: z.string().regex(ORCHESTRATOR_ID, 'must be 1-24 lowercase letters, digits or "-"').default('default'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  redis: z.strictObject({ url: z.string().optional() }).prefault({}),
  admin: z
    .strictObject({
      listen: z.string().regex(LISTEN, 'must be HOST:PORT, e.g. 127.0.0.1:7070').default('127.0.0.1:7070'),
    })
    .prefault({}),
  /** The Docker engine's API socket. */
  dockerSocket: z.string().default('/var/run/docker.sock'),
  /** Where the embedded Redis keeps its data, so host data survives a restart. */
  stateDir: z.string().default(`${process.env.HOME ?? '/root'}/.local/state/classtop-sandbox`),
  /** Where per-plugin socket directories are made. */
  runtimeDir: z.string().default('/run/classtop-sandbox'),
  /** Where per-plugin shared-memory directories are made (each mounted at the plugin's /dev/shm). */
  shmDir: z.string().default('/dev/shm/classtop-sandbox'),
  upstream: z
    .strictObject({
      /** `builtin` (the reference host on Redis), `unix:///path/host.sock`, or `HOST:PORT`. */
      address: z.string().default('builtin'),
      timeoutMs: z.int().positive().max(60_000).default(5_000),
      /** The ClassTop version this host implements (an operator's own host may differ from the built-in one). */
      classtopVersion: classtopVersion.default(CLASSTOP_HOST_VERSION),
    })
    .prefault({}),
  sessionTokenTtlS: z.int().positive().max(86_400).default(3_600),
  /** uid:gid every plugin process runs as; never 0. */
  sandboxUser: z
    .string()
    .regex(/^[1-9]\d*:[1-9]\d*$/, 'must be UID:GID, both non-zero, e.g. 10001:10001')
    .default('10001:10001'),
  /** The sandbox image of each runtime; a plugin runs in the one of its manifest's runtime. */
  images: z
    .strictObject({
      node: z.string().default('classtop/sandbox-node:latest'),
      python: z.string().default('classtop/sandbox-python:latest'),
      cpp: z.string().default('classtop/sandbox-cpp:latest'),
    })
    .prefault({}),
  /** Lifecycle jobs on BullMQ. */
  lifecycle: z
    .strictObject({
      queueName: z
        .string()
        .regex(/^[a-z0-9-]{1,40}$/)
        .default('lifecycle'),
      concurrency: z.int().positive().max(64).default(8),
      attempts: z.int().positive().max(20).default(5),
      backoffMs: z.int().positive().default(500),
      busyRetryMs: z.int().positive().default(200),
      /** A job whose worker stops renewing its lock for this long (a killed process) is run again. */
      jobLockMs: z.int().positive().default(30_000),
      /** The per-plugin lock of a killed process frees itself after this long. */
      pluginLockMs: z.int().positive().default(30_000),
    })
    .prefault({}),
  /** Crash restarts: exponential backoff with jitter; a crash loop stops them. */
  supervision: z
    .strictObject({
      restartInitialMs: z.int().positive().default(500),
      restartMaxMs: z.int().positive().default(30_000),
      crashLoopRestarts: z.int().positive().default(5),
      crashLoopWindowMs: z.int().positive().default(60_000),
      /** Health ping of every running plugin; this many failures in a row count as a crash. */
      healthIntervalMs: z.int().positive().default(10_000),
      healthTimeoutMs: z.int().positive().default(2_000),
      unhealthyAfter: z.int().positive().default(3),
      /**
       * Timings of the Docker HEALTHCHECK of plugin containers; each left out keeps the image's
       * (the probe itself is always the image's: each language's image brings its own).
       */
      containerHealth: z
        .strictObject({
          intervalMs: z.int().min(1).optional(),
          timeoutMs: z.int().min(1).optional(),
          startPeriodMs: z.int().min(1).optional(),
          retries: z.int().positive().optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  /** SIGTERM: how long disabling every plugin may take before the process exits anyway. */
  shutdownTimeoutMs: z.int().positive().default(30_000),
  /** Audit records (every gateway decision) as JSON lines: a file, or `stdout`. */
  auditLog: z.string().default('audit.log'),
  /** How often CRL files are read again; a plugin whose certificate is now revoked is disabled. */
  crlReloadIntervalMs: z.int().positive().default(30_000),
  /** How long a plugin has from container start to Register and onEnable. */
  startTimeoutMs: z.int().positive().default(20_000),
  limits: z
    .strictObject({
      maxMemoryMb: z.int().positive().default(512),
      maxCpus: z.number().positive().default(1),
      maxPids: z.int().positive().default(128),
      maxShmMb: z.int().positive().default(64),
      maxTmpMb: z.int().positive().default(64),
      allowWritablePaths: z.boolean().default(false),
      /** nofile ulimit of every plugin process. */
      nofile: z.int().positive().default(1024),
      /** nproc ulimit; counts every process of the sandbox uid on the host, so it is generous. */
      nproc: z.int().positive().default(4096),
      /** Largest json-file log a container keeps, and the largest line forwarded to our log. */
      logMaxBytes: z.int().positive().default(1_048_576),
      logLineMaxBytes: z.int().positive().default(4_096),
    })
    .prefault({}),
  tenants: z.array(tenantSchema).default([]),
});

export type RawConfig = z.infer<typeof configSchema>;
