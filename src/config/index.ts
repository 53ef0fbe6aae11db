export { loadConfig, type SandboxConfig, type TenantConfig } from './load-config.ts';
