import semver from 'semver';
import type { PluginManifest } from '../manifest/index.ts';
import { DependencyError } from './dependency-error.ts';

/**
 * Refuses a plugin whose `dependencies.classtop_version` range the host's ClassTop version does
 * not satisfy (node-semver ranges; a prerelease host version counts as its release).
 */
export function checkClasstopVersion(manifest: PluginManifest, hostVersion: string): void {
  const range = manifest.dependencies.classtopVersion;
  if (range === null || semver.satisfies(hostVersion, range, { includePrerelease: true })) return;
  throw new DependencyError(
    'CLASSTOP_VERSION_UNSATISFIED',
    `${manifest.id} ${manifest.version} needs ClassTop ${range} (dependencies.classtop_version), ` +
      `but this host implements ClassTop ${hostVersion}; run a version of the plugin made for ${hostVersion}, ` +
      'or, for an operator whose own host implements another version, set upstream.classtopVersion',
  );
}
