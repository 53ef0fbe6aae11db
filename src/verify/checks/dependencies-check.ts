import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  checkClasstopVersion,
  DependencyError,
  hostClasstopVersion,
  makeWritable,
  resolvePackagesOf,
  UNMET_FIX,
} from '../../dependencies/index.ts';
import { MANIFEST_FILE, type PluginManifest } from '../../manifest/index.ts';
import { DockerSandboxRuntime } from '../../sandbox/index.ts';
import { resultsOf, type CheckLocation, type CheckResult } from '../check-result.ts';
import { engineSilence } from '../engine-answers.ts';
import type { StaticCheck, StaticContext } from './static-check.ts';

const r = resultsOf('dependencies', 'static');

/**
 * plugin.yaml's `dependencies`, as the orchestrator's dependency step checks them before any
 * container: `classtop_version` against the host's version, and `python_packages` met offline by
 * the python image or the bundle's wheels (the same one-shot resolver container, in this run's
 * private directories). Without a Docker engine the packages are not checked: skipped, not passed.
 */
export const dependenciesCheck: StaticCheck = {
  name: 'dependencies',
  async run(ctx): Promise<CheckResult[]> {
    const m = ctx.manifest;
    if (!m) return [r.skipped('DEPENDENCIES_NOT_CHECKED', 'dependencies not checked', `${MANIFEST_FILE} is invalid`)];
    const { classtopVersion, pythonPackages } = m.dependencies;
    if (classtopVersion === null && pythonPackages.length === 0)
      return [r.ok('NO_DEPENDENCIES', 'no dependencies', `${MANIFEST_FILE} declares none`)];
    const results: CheckResult[] = [];
    if (classtopVersion !== null) results.push(classtopVersionResult(ctx, m));
    if (pythonPackages.length > 0) results.push(...(await pythonPackagesResults(ctx, m)));
    return results;
  },
};

function at(ctx: StaticContext, field: string): CheckLocation {
  const line = ctx.manifestLine(field);
  return { file: MANIFEST_FILE, ...(line ? { line } : {}) };
}

/** The orchestrator's own check, against the version the tenant's host implements. */
function classtopVersionResult(ctx: StaticContext, m: PluginManifest): CheckResult {
  const where = at(ctx, 'dependencies.classtop_version');
  const host = hostClasstopVersion(ctx.config, ctx.tenant);
  try {
    checkClasstopVersion(m, host);
  } catch (err) {
    if (!(err instanceof DependencyError)) throw err;
    const title = `needs ClassTop ${m.dependencies.classtopVersion}, the host implements ${host}`;
    return r.error(err.reason, title, withoutReason(err), where);
  }
  const range = m.dependencies.classtopVersion ?? '';
  return r.ok('CLASSTOP_VERSION_SATISFIED', `ClassTop ${host} satisfies ${range}`, `tenant '${ctx.tenant.id}'`, where);
}

async function pythonPackagesResults(ctx: StaticContext, m: PluginManifest): Promise<CheckResult[]> {
  const where = at(ctx, 'dependencies.python_packages');
  const notChecked = (code: string, why: string) => [r.skipped(code, 'python_packages not checked', why, where)];
  const runtime = new DockerSandboxRuntime(ctx.log, ctx.config.dockerSocket);
  const silence = await engineSilence(runtime, ctx.config.dockerSocket);
  if (silence) return notChecked('NO_ENGINE', `they are resolved in the python image: ${silence}`);
  const image = ctx.config.images.python;
  if (!image) return notChecked('NO_IMAGE', 'the config has no images.python to resolve them in; set it');
  let imageId: string;
  try {
    imageId = await runtime.resolveImage(image);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return notChecked('NO_IMAGE', `the python image ${image} is not there (${why}); run docker/build-images.sh`);
  }
  // This run's own directories: nothing of the operator's state is read or written.
  const orchestratorId = `verify-deps-${randomBytes(4).toString('hex')}`;
  const own = path.join(ctx.scratch, 'dependencies');
  const config = {
    ...ctx.config,
    orchestratorId,
    stateDir: path.join(own, 'state'),
    runtimeDir: path.join(own, 'run'),
  };
  try {
    const site = await resolvePackagesOf({ manifest: m, tenant: ctx.tenant, imageId, config, runtime, log: ctx.log });
    const from = site ? 'the python image and the bundle’s wheels' : 'the python image';
    const title = `python_packages met offline by ${from}`;
    return [r.ok('PACKAGES_RESOLVED', title, m.dependencies.pythonPackages.join(', '), where)];
  } catch (err) {
    if (!(err instanceof DependencyError)) throw err;
    if (err.unmet.length === 0)
      return [r.error(err.reason, 'python_packages cannot be installed', withoutReason(err), where)];
    return err.unmet.map(({ requirement, detail }) => {
      const index = m.dependencies.pythonPackages.indexOf(requirement);
      return r.error(
        err.reason,
        `${requirement} cannot be met offline`,
        `${detail}. ${UNMET_FIX}`,
        at(ctx, index >= 0 ? `dependencies.python_packages.${index}` : 'dependencies.python_packages'),
      );
    });
  } finally {
    // What it installed is read-only (as for a plugin): opened first, so that a non-root user can remove it.
    await makeWritable(own);
    await rm(own, { recursive: true, force: true });
  }
}

/** The message without its leading `REASON: `: the result carries the reason as its code. */
function withoutReason(err: DependencyError): string {
  return err.message.startsWith(`${err.reason}: `) ? err.message.slice(err.reason.length + 2) : err.message;
}
