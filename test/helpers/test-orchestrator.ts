import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Redis } from 'ioredis';
import { AdminServer } from '../../src/admin/index.ts';
import { loadConfig, type SandboxConfig } from '../../src/config/index.ts';
import type { AuditRecord } from '../../src/gateway/index.ts';
import type { JobView } from '../../src/lifecycle/index.ts';
import { createLogger, type Logger } from '../../src/logging/index.ts';
import { Orchestrator, type PluginStatus } from '../../src/orchestrator/index.ts';
import { EmbeddedRedis } from '../../src/redis/index.ts';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { admin as adminRequest } from './admin-client.ts';

/** The repository root (this file runs from dist/test/helpers). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const EXAMPLES = path.join(REPO_ROOT, 'examples/plugins');
export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/plugins');

export const EXAMPLE_TRUST = path.join(REPO_ROOT, 'examples/trust');

/** The trust section that accepts the signed examples: the example root and both CRLs. */
export function exampleTrust(overrides: Record<string, unknown> = {}) {
  return {
    roots: [path.join(EXAMPLE_TRUST, 'ca/root.pem')],
    crls: [path.join(EXAMPLE_TRUST, 'ca/root.crl.pem'), path.join(EXAMPLE_TRUST, 'ca/intermediate.crl.pem')],
    ...overrides,
  };
}

export interface TestTenant {
  id: string;
  permissions?: string[];
  privilegedPermissions?: string[];
  plugins: string[];
  /** Defaults to exampleTrust(). */
  trust?: Record<string, unknown>;
  callLimits?: Record<string, unknown>;
  upstream?: Record<string, unknown>;
  quota?: Record<string, unknown>;
}

export interface TestOrchestrator {
  orchestrator: Orchestrator;
  config: SandboxConfig;
  /** A client of the test's own Redis, to check host data directly. */
  redis: Redis;
  /** The test's own redis-server. */
  redisServer: EmbeddedRedis;
  runtime: DockerSandboxRuntime;
  adminUrl: string;
  /** Host path of an instance's gateway socket. */
  gatewaySocket(tenant: string, pluginId: string): string;
  status(tenant: string, pluginId: string): PluginStatus;
  /** Every record of the audit log so far. */
  audit(): AuditRecord[];
  /** A lifecycle job through the admin API, waited for; its view when it ended. */
  job(tenant: string, action: string, pluginId: string, body?: unknown): Promise<JobView>;
  stop(): Promise<void>;
}

const JOB_TIMEOUT_MS = 60_000;

export function testLogger(): Logger {
  return createLogger({ level: process.env.CLASSTOP_TEST_LOG_LEVEL ?? 'silent', sync: true });
}

/**
 * The node sandbox image docker/build-images.sh built from this checkout (its content-hashed
 * tag), so that another checkout retagging :latest on the same engine cannot change what runs.
 */
export const NODE_IMAGE = (() => {
  const recorded = path.join(REPO_ROOT, '.cache/images/sandbox-node');
  return existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : 'classtop/sandbox-node:latest';
})();

/** The python sandbox image docker/build-images.sh built from this checkout, likewise. */
export const PYTHON_IMAGE = (() => {
  const recorded = path.join(REPO_ROOT, '.cache/images/sandbox-python');
  return existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : 'classtop/sandbox-python:latest';
})();

/** The cpp sandbox image docker/build-images.sh built from this checkout, likewise. */
export const CPP_IMAGE = (() => {
  const recorded = path.join(REPO_ROOT, '.cache/images/sandbox-cpp');
  return existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : 'classtop/sandbox-cpp:latest';
})();

/** Writes a config file for `tenants` in a fresh temporary directory; returns its path. */
export function writeTestConfig(
  tenants: TestTenant[],
  extra: Record<string, unknown> = {},
): { file: string; root: string } {
  const id = `t${randomBytes(4).toString('hex')}`;
  const root = mkdtempSync(path.join(tmpdir(), 'ct-'));
  const config = {
    orchestratorId: id,
    logLevel: 'silent',
    runtimeDir: path.join(root, 'run'),
    shmDir: `/dev/shm/classtop-test-${id}`,
    stateDir: path.join(root, 'state'),
    admin: { listen: '127.0.0.1:0' },
    startTimeoutMs: 30_000,
    images: { node: NODE_IMAGE, python: PYTHON_IMAGE, cpp: CPP_IMAGE },
    tenants: tenants.map((t) => ({ trust: exampleTrust(), ...t })),
    ...extra,
  };
  const file = path.join(root, 'config.yaml');
  writeFileSync(file, stringify(config));
  return { file, root };
}

/** A real orchestrator on a private redis-server, a real Docker engine, and real sockets. */
export interface TestOptions {
  /** Config keys beside the tenants. */
  config?: Record<string, unknown>;
  /** Environment overrides (e.g. CLASSTOP_SESSION_SECRET). */
  env?: NodeJS.ProcessEnv;
  /** Runs with the test's Redis before the orchestrator starts. */
  beforeStart?: (redis: Redis) => Promise<void>;
  /** The orchestrator's logger (e.g. test/helpers/captured-log.ts); silent by default. */
  log?: Logger;
}

export async function startTestOrchestrator(
  tenants: TestTenant[],
  options: TestOptions = {},
): Promise<TestOrchestrator> {
  const { beforeStart } = options;
  const { file, root } = writeTestConfig(tenants, options.config ?? {});
  const config = loadConfig(file, options.env ?? {});
  const log = options.log ?? testLogger();
  const embedded = await EmbeddedRedis.start();
  const redis = new Redis({ path: embedded.socketPath });
  const orchestrator = new Orchestrator(config, log);
  const admin = new AdminServer(orchestrator, log);
  const runtime = new DockerSandboxRuntime(log);
  const stop = async () => {
    await admin.close();
    await orchestrator.stop();
    redis.disconnect();
    await embedded.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(config.shmDir, { recursive: true, force: true });
  };
  try {
    await beforeStart?.(redis);
    await orchestrator.start(embedded.url);
    const port = await admin.listen('127.0.0.1:0');
    const status = (tenant: string, pluginId: string) => orchestrator.find(tenant, pluginId).status();
    return {
      orchestrator,
      config,
      redis,
      redisServer: embedded,
      runtime,
      adminUrl: `http://127.0.0.1:${port}`,
      status,
      audit: () =>
        readFileSync(config.auditLog, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as AuditRecord),
      job: async (tenant, action, pluginId, body) => {
        const adminUrl = `http://127.0.0.1:${port}`;
        const route = `/v1/plugins/${tenant}/${pluginId}/${action}`;
        const submitted = await adminRequest<{ jobId: string }>(adminUrl, 'POST', route, body);
        if (submitted.status !== 200) throw new Error(`${action} ${pluginId}: ${JSON.stringify(submitted.body)}`);
        await orchestrator.waitForJob(submitted.body.jobId, JOB_TIMEOUT_MS).catch(() => undefined);
        return (await adminRequest<JobView>(adminUrl, 'GET', `/v1/jobs/${submitted.body.jobId}`)).body;
      },
      gatewaySocket: (tenant, pluginId) =>
        path.join(
          config.runtimeDir,
          config.orchestratorId,
          status(tenant, pluginId).instanceId as string,
          'gateway.sock',
        ),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
