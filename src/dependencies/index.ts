export {
  resolveDependencies,
  PARTIAL_DIR,
  type DependencyRequest,
  type ResolvedDependencies,
} from './resolve-dependencies.ts';
export { DependencyError, DEPENDENCY_REASONS, type DependencyReason } from './dependency-error.ts';
export { checkClasstopVersion } from './classtop-version-check.ts';
export { WHEELS_DIR } from './python-packages.ts';
