export {
  hostClasstopVersion,
  resolveDependencies,
  resolvePackagesOf,
  PARTIAL_DIR,
  type DependencyRequest,
  type ResolvedDependencies,
} from './resolve-dependencies.ts';
export {
  DependencyError,
  DEPENDENCY_REASONS,
  type DependencyReason,
  type UnmetRequirement,
} from './dependency-error.ts';
export { checkClasstopVersion } from './classtop-version-check.ts';
export { UNMET_FIX, WHEELS_DIR } from './python-packages.ts';
export { makeWritable } from './package-cache.ts';
