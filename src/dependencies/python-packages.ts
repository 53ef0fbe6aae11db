import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../logging/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import { createScratchDirectory, removeScratchDirectory, type DockerSandboxRuntime } from '../sandbox/index.ts';
import { DependencyError } from './dependency-error.ts';
import { copyReadOnly, makeWritable, packagesKey, publish } from './package-cache.ts';
import { runResolver } from './resolver-container.ts';

/** The bundle's folder of wheels (inside the signed bundle, so covered by its signature). */
export const WHEELS_DIR = 'wheels';
const SITE_PACKAGES = 'site-packages';
const REPORT = 'report.json';
/** What to do about a requirement neither the image nor the bundle meets. */
export const UNMET_FIX =
  'Carry a wheel for it in the signed bundle (wheels/*.whl), or ask the operator to bake the Debian ' +
  'python3-* package into the python image (docker/sandbox-python/debian-packages.txt)';
/** Cap of what the resolver may write: installed wheels and its report. */
const SCRATCH_BYTES = 256 * 1024 * 1024;
const SCRATCH_INODES = 65_536;
const MAX_REPORT_BYTES = 1024 * 1024;

/** classtop.deps' report (sandboxes/python/classtop/deps.py), checked: it came out of a container. */
const reportSchema = z.object({
  ok: z.boolean(),
  requirements: z.array(z.object({ requirement: z.string(), status: z.string(), detail: z.string() })).max(1_000),
  installed: z.array(z.string()).max(1_000),
  error: z.string().nullable(),
});
type ResolverReport = z.infer<typeof reportSchema>;

export interface PythonPackagesRequest {
  /** The manifest, with `directory` the verified snapshot. */
  manifest: PluginManifest;
  tenant: string;
  imageId: string;
  ociRuntime: string | undefined;
  runtime: DockerSandboxRuntime;
  /** Where resolved sets live, by content key (shared by every orchestrator on this state dir). */
  cacheDir: string;
  /** This orchestrator's scratch: the resolver's tmpfs, and copies not yet published. */
  scratchDir: string;
  partialDir: string;
  orchestratorId: string;
  uid: number;
  gid: number;
  limits: { nofile: number; nproc: number };
  log: Logger;
}

/**
 * Resolves `dependencies.python_packages` before any plugin container starts: reuses the
 * content-addressed directory when one exists, else runs classtop.deps once in the image and
 * publishes what it installed. Returns the host directory to mount on the plugin's sys.path, or
 * null when the image meets every requirement. Throws DependencyError naming what is missing.
 */
export async function resolvePythonPackages(req: PythonPackagesRequest): Promise<string | null> {
  const { manifest } = req;
  const requirements = manifest.dependencies.pythonPackages;
  if (requirements.length === 0) return null;
  const wheelsDir = path.join(manifest.directory, WHEELS_DIR);
  const key = await packagesKey(requirements, wheelsDir, req.imageId);
  const final = path.join(req.cacheDir, key);
  if (!existsSync(path.join(final, REPORT))) {
    await resolveInto(req, wheelsDir, final);
  } else {
    req.log.debug({ key }, 'python_packages already resolved');
  }
  const site = path.join(final, SITE_PACKAGES);
  return existsSync(site) ? site : null;
}

async function resolveInto(req: PythonPackagesRequest, wheelsDir: string, final: string): Promise<void> {
  const { manifest, log } = req;
  const id = randomBytes(6).toString('hex');
  const scratch = path.join(req.scratchDir, `deps-${id}`);
  const partial = path.join(req.partialDir, id);
  await createScratchDirectory(
    scratch,
    { bytes: SCRATCH_BYTES, inodes: SCRATCH_INODES, uid: req.uid, gid: req.gid },
    log,
  );
  try {
    const { exitCode, output } = await runResolver(
      req.runtime,
      {
        orchestratorId: req.orchestratorId,
        tenant: req.tenant,
        pluginId: manifest.id,
        pluginVersion: manifest.version,
        imageId: req.imageId,
        user: `${req.uid}:${req.gid}`,
        requirements: manifest.dependencies.pythonPackages,
        wheelsDir,
        outDir: scratch,
        limits: req.limits,
        ociRuntime: req.ociRuntime,
      },
      log,
    );
    const report = await readReport(scratch, manifest.id, exitCode, output);
    refuseUnmet(report, manifest.id);
    await mkdir(req.partialDir, { recursive: true, mode: 0o700 });
    await copyReadOnly(scratch, partial, manifest.id);
    await publish(partial, final);
    log.info({ installed: report.installed, dir: final }, 'python_packages resolved');
  } finally {
    await removeScratchDirectory(scratch, log);
    await makeWritable(partial);
    await rm(partial, { recursive: true, force: true });
  }
}

async function readReport(dir: string, pluginId: string, exitCode: number, output: string): Promise<ResolverReport> {
  const file = path.join(dir, REPORT);
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isFile() || info.size > MAX_REPORT_BYTES) {
    throw new DependencyError(
      'DEPENDENCY_RESOLUTION_FAILED',
      `${pluginId}: the python_packages resolver exited with code ${exitCode} without a report` +
        (output ? `; its output: ${output}` : '') +
        '; check that the python image was built by docker/build-images.sh',
    );
  }
  let parsed: ReturnType<typeof reportSchema.safeParse>;
  try {
    parsed = reportSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err: unknown) {
    throw new DependencyError('DEPENDENCY_RESOLUTION_FAILED', `${pluginId}: the resolver's report is not JSON`, {
      cause: err,
    });
  }
  if (!parsed.success) {
    throw new DependencyError('DEPENDENCY_RESOLUTION_FAILED', `${pluginId}: the resolver's report is malformed`);
  }
  // Ours to write, beside what it installed: the report stays with the cached directory.
  await writeFile(file, JSON.stringify(parsed.data));
  return parsed.data;
}

function refuseUnmet(report: ResolverReport, pluginId: string): void {
  const unmet = report.requirements.filter((r) => r.status === 'unsatisfied' || r.status === 'invalid');
  if (unmet.length > 0) {
    throw new DependencyError(
      'DEPENDENCY_UNSATISFIED',
      `${pluginId}: dependencies.python_packages cannot be met: ${unmet.map((r) => r.detail).join('; ')}. ${UNMET_FIX}`,
      { unmet: unmet.map(({ requirement, detail }) => ({ requirement, detail })) },
    );
  }
  if (!report.ok) {
    throw new DependencyError(
      'DEPENDENCY_INSTALL_FAILED',
      `${pluginId}: dependencies.python_packages: ${report.error ?? 'the resolver failed without saying why'}`,
    );
  }
}
