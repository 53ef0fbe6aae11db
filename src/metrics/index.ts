export { SandboxMetrics } from './sandbox-metrics.ts';
