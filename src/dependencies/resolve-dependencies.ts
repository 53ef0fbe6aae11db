import path from 'node:path';
import type { SandboxConfig, TenantConfig } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import type { DockerSandboxRuntime } from '../sandbox/index.ts';
import { checkClasstopVersion } from './classtop-version-check.ts';
import { resolvePythonPackages } from './python-packages.ts';

/** Where resolved python_packages are kept, by content key, under the state directory. */
const CACHE_DIR = 'python-packages';
/** This orchestrator's copies not yet published (removed at its next start). */
export const PARTIAL_DIR = 'python-packages-partial';

export interface DependencyRequest {
  /** The manifest, with `directory` the verified snapshot. */
  manifest: PluginManifest;
  tenant: TenantConfig;
  /** The image the plugin will run in (its id). */
  imageId: string;
  config: SandboxConfig;
  runtime: DockerSandboxRuntime;
  log: Logger;
}

/** What the plugin's container gets from this step. */
export interface ResolvedDependencies {
  /** A host directory to mount read-only for the runner (its sys.path); null when none. */
  dir: string | null;
}

/**
 * The dependency step of a plugin's start, after trust and before any of its containers: the
 * host's ClassTop version against `dependencies.classtop_version`, then `python_packages`
 * against the image and the bundle's wheels. A plugin whose needs are not met is refused with a
 * DependencyError (DEPENDENCY_UNSATISFIED, CLASSTOP_VERSION_UNSATISFIED, ...).
 */
export async function resolveDependencies(req: DependencyRequest): Promise<ResolvedDependencies> {
  checkClasstopVersion(req.manifest, hostClasstopVersion(req.config, req.tenant));
  return { dir: await resolvePackagesOf(req) };
}

/** The ClassTop version a tenant's host implements: its own upstream's, else the orchestrator's. */
export function hostClasstopVersion(config: SandboxConfig, tenant: TenantConfig): string {
  return tenant.upstream?.classtopVersion ?? config.upstream.classtopVersion;
}

/**
 * `python_packages` alone (`verify` checks the ClassTop version on its own): the directory to
 * mount, or null; the resolved sets are kept under `config.stateDir`.
 */
export async function resolvePackagesOf(req: DependencyRequest): Promise<string | null> {
  const { manifest, tenant, config } = req;
  return resolvePythonPackages({
    manifest,
    tenant: tenant.id,
    imageId: req.imageId,
    ociRuntime: tenant.ociRuntime,
    runtime: req.runtime,
    cacheDir: path.join(config.stateDir, CACHE_DIR),
    scratchDir: path.join(config.runtimeDir, config.orchestratorId),
    partialDir: path.join(config.stateDir, config.orchestratorId, PARTIAL_DIR),
    orchestratorId: config.orchestratorId,
    uid: config.sandboxUid,
    gid: config.sandboxGid,
    limits: config.limits,
    log: req.log.child({ pluginId: manifest.id, step: 'dependencies' }),
  });
}
