import type { Logger } from '../logging/index.ts';
import type { SandboxMetrics } from '../metrics/index.ts';
import type { AuditLog } from './audit-log.ts';
import type { SessionIdentity } from './session-tokens.ts';

interface DecisionSeries {
  calls: ReturnType<SandboxMetrics['calls']['labels']>;
  latency: ReturnType<SandboxMetrics['latency']['labels']>;
  denials: ReturnType<SandboxMetrics['denials']['labels']> | undefined;
}

export interface DecisionRecorderOptions {
  identity: SessionIdentity;
  metrics: SandboxMetrics;
  audit: AuditLog;
  log: Logger;
}

/**
 * Every decision of one gateway, allowed or denied, leaves an audit record and its metrics:
 * calls and denials by code, latency, rate-limit refusals.
 */
export class DecisionRecorder {
  private readonly identity: SessionIdentity;
  private readonly metrics: SandboxMetrics;
  private readonly audit: AuditLog;
  private readonly log: Logger;
  private readonly labels: { tenant: string; plugin: string };
  private readonly seriesCache = new Map<string, DecisionSeries>();

  constructor(options: DecisionRecorderOptions) {
    this.identity = options.identity;
    this.metrics = options.metrics;
    this.audit = options.audit;
    this.log = options.log;
    this.labels = { tenant: options.identity.tenant, plugin: options.identity.pluginId };
  }

  /**
   * Audit record and metrics of one decision on `api` (an RPC or a host API), `started` being
   * performance.now() when the call arrived. Called after the answer is on its way, so it is off
   * the call's latency.
   */
  decided(api: string, code: string, started: number, reason?: string): void {
    const latencyMs = performance.now() - started;
    if (code === 'INTERNAL_ERROR') this.log.error({ apiName: api, reason }, 'call failed');
    const series = this.series(api, code);
    series.calls.inc();
    series.latency.observe(latencyMs / 1_000);
    series.denials?.inc();
    if (code === 'RATE_LIMIT_EXCEEDED') this.metrics.rateLimited.inc(this.labels);
    const { identity } = this;
    this.audit({
      tenant: identity.tenant,
      pluginId: identity.pluginId,
      instanceId: identity.instanceId,
      api,
      decision: code === 'OK' ? 'allowed' : 'denied',
      code,
      latencyMs: Math.round(latencyMs * 1000) / 1000,
      ...(reason ? { reason } : {}),
    });
  }

  /** The labelled metric series of (api, code), looked up once rather than on every call. */
  private series(api: string, code: string): DecisionSeries {
    const key = `${api}\u0000${code}`;
    let found = this.seriesCache.get(key);
    if (!found) {
      const { metrics } = this;
      const { tenant, plugin } = this.labels;
      found = {
        calls: metrics.calls.labels(tenant, plugin, api, code),
        latency: metrics.latency.labels(tenant, plugin, api),
        denials: code === 'OK' ? undefined : metrics.denials.labels(tenant, plugin, code),
      };
      this.seriesCache.set(key, found);
    }
    return found;
  }
}
