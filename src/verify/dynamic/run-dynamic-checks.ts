import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { SandboxConfig } from '../../config/index.ts';
import { seedSampleSchedule, type HostEvent } from '../../host/index.ts';
import { PluginStateStore } from '../../lifecycle/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { PluginManifest } from '../../manifest/index.ts';
import { Orchestrator } from '../../orchestrator/index.ts';
import { connectRedis, EmbeddedRedis, redisKeys } from '../../redis/index.ts';
import { DockerSandboxRuntime } from '../../sandbox/index.ts';
import { SIGNED_MANIFEST_FILE } from '../../trust/index.ts';
import { resultsOf, type CheckResult } from '../check-result.ts';
import { engineSilence } from '../engine-answers.ts';
import type { StaticOutcome } from '../run-static-checks.ts';
import type { VerifyTarget } from '../verify-target.ts';
import { auditFindings, readAudit } from './audit-findings.ts';
import { dynamicConfig } from './dynamic-config.ts';
import { PluginRun } from './plugin-run.ts';
import { runFindings } from './run-findings.ts';
import { UsageSampler } from './usage-sampler.ts';

/** Static findings that mean the orchestrator would refuse to start the plugin at all. */
const REFUSING_GROUPS = new Set([
  'manifest',
  'dependencies',
  'cpp-abi',
  'limits',
  'signature',
  'files',
  'certificate-chain',
  'certificate-validity',
  'revocation',
  'fingerprint-pin',
  'permissions',
]);

export interface DynamicOptions {
  log: Logger;
  /** Each result as it is made (the progress lines). */
  onResult: (result: CheckResult) => void;
  /** Told the run's orchestrator id and directory once they exist, so that leftovers can be named. */
  onRun: (orchestratorId: string, directory: string) => void;
  /** Aborted on SIGINT/SIGTERM: the run stops and removes what it made. */
  signal: AbortSignal;
}

export interface DynamicOutcome {
  checks: CheckResult[];
  engine: 'answered' | 'unavailable' | 'not-run';
}

/**
 * Runs the plugin as a host would: an Orchestrator on its own embedded Redis, with the built-in
 * host seeded with a week's schedule, the plugin in its hardened container from the config's
 * image, and the lifecycle steps of PluginRun; then reads the audit log and the events back.
 * `signal` (SIGINT, SIGTERM) stops everything at once; nothing is left behind either way.
 */
export async function runDynamicChecks(
  target: VerifyTarget,
  found: StaticOutcome,
  options: DynamicOptions,
): Promise<DynamicOutcome> {
  const { log, onResult, signal } = options;
  const r = resultsOf('lifecycle', 'dynamic');
  const skip = (code: string, why: string, engine: DynamicOutcome['engine']): DynamicOutcome => {
    const result = r.skipped(code, 'the plugin was not run', why);
    onResult(result);
    return { checks: [result], engine };
  };
  if (signal.aborted) return skip('NOT_RUN', 'verify was stopped by a signal', 'not-run');
  const manifest = found.manifest;
  const refusing = found.checks.filter((c) => c.severity === 'error' && REFUSING_GROUPS.has(c.group));
  if (!manifest || refusing.length > 0) {
    const codes = [...new Set(refusing.map((c) => c.code))].join(', ') || 'MANIFEST_INVALID';
    return skip('NOT_RUN', `the orchestrator would refuse to start it (${codes})`, 'not-run');
  }
  const runtime = new DockerSandboxRuntime(log, target.config.dockerSocket);
  const silence = await engineSilence(runtime, target.config.dockerSocket);
  if (silence) return skip('NO_ENGINE', silence, 'unavailable');
  const { plugin, allowUnsigned } = pluginToRun(target, found);
  const config = dynamicConfig(target, plugin, allowUnsigned);
  options.onRun(config.orchestratorId, target.scratch);
  const checks = await runWithCleanup(config, target.tenant.id, manifest, { runtime, log, onResult, signal });
  const audit = auditFindings(readAudit(config.auditLog, manifest.id), manifest);
  audit.forEach(onResult);
  return { checks: [...checks, ...audit], engine: 'answered' };
}

/**
 * What the orchestrator is given: the plugin as it is when the tenant has trust roots (it
 * verifies it again, as in production); without any, a copy without its signature, run as
 * unsigned (the static checks already reported the chain as not checked).
 */
function pluginToRun(target: VerifyTarget, found: StaticOutcome): { plugin: string; allowUnsigned: boolean } {
  const signed = found.signature?.kind === 'signed';
  if (!signed) return { plugin: target.root, allowUnsigned: true };
  if (target.trust.roots.length > 0) return { plugin: path.resolve(target.source), allowUnsigned: false };
  const copy = path.join(target.scratch, 'run-unsigned');
  cpSync(target.root, copy, { recursive: true, filter: (src) => path.basename(src) !== SIGNED_MANIFEST_FILE });
  return { plugin: copy, allowUnsigned: true };
}

interface RunDeps {
  runtime: DockerSandboxRuntime;
  log: Logger;
  onResult: (result: CheckResult) => void;
  signal: AbortSignal;
}

async function runWithCleanup(
  config: SandboxConfig,
  tenant: string,
  manifest: PluginManifest,
  deps: RunDeps,
): Promise<CheckResult[]> {
  // Undone last first, once each; a close on a signal and the one at the end run one after the other.
  const closers: Array<() => Promise<void> | void> = [];
  let closed = Promise.resolve();
  const drain = async () => {
    for (let closer = closers.pop(); closer; closer = closers.pop())
      await Promise.resolve(closer()).catch((err: unknown) => deps.log.error({ err }, 'cleanup step failed'));
    rmSync(config.shmDir, { recursive: true, force: true });
  };
  const close = () => (closed = closed.then(drain));
  deps.signal.addEventListener('abort', () => void close(), { once: true });
  try {
    const redisDir = path.join(config.stateDir, 'redis');
    mkdirSync(redisDir, { recursive: true, mode: 0o700 });
    const redisServer = await EmbeddedRedis.start(redisDir);
    closers.push(() => redisServer.stop());
    const redis = connectRedis(redisServer.url, deps.log);
    closers.push(() => redis.disconnect());
    await redis.connect();
    await seedSampleSchedule(redis, tenant);
    const events: HostEvent[] = [];
    const subscriber = redis.duplicate();
    closers.push(() => subscriber.disconnect());
    subscriber.on('message', (_channel: string, message: string) => events.push(JSON.parse(message) as HostEvent));
    await subscriber.subscribe(redisKeys.events(tenant));
    const orchestrator = new Orchestrator(config, deps.log);
    closers.push(() => orchestrator.stop());
    const sampler = new UsageSampler(deps.runtime);
    const run = new PluginRun(
      { orchestrator, store: new PluginStateStore(redis), sampler, signal: deps.signal },
      tenant,
      manifest,
      deps.onResult,
    );
    if (!deps.signal.aborted) await run.all(() => orchestrator.start(redisServer.url));
    await close();
    const findings = runFindings(run, sampler, events, manifest);
    findings.forEach(deps.onResult);
    return [...run.results, ...findings];
  } finally {
    await close();
  }
}
