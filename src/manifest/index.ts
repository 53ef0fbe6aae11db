export {
  loadManifest,
  ManifestError,
  MANIFEST_FILE,
  NO_OPERATOR_LIMITS,
  type PluginManifest,
  type SandboxLimits,
  type VerifyCall,
  type WhitelistedPath,
} from './load-manifest.ts';
export { MAX_PYTHON_PACKAGES, type PluginDependencies } from './manifest-dependencies.ts';
export { DEFAULT_ENTRIES, SANDBOX_DEFAULTS, type RuntimeType } from './manifest-schema.ts';
export {
  PERMISSIONS,
  PRIVILEGED_PERMISSIONS,
  isPermission,
  isPrivilegedPermission,
  type Permission,
  type PrivilegedPermission,
  type AnyPermission,
} from './permissions.ts';
export { resolveInside } from './plugin-path.ts';
