import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics of one orchestrator (own registry, so several in one process stay apart),
 * served at GET /metrics on the admin API.
 */
export class SandboxMetrics {
  readonly registry = new Registry();
  readonly calls = new Counter({
    name: 'classtop_gateway_calls_total',
    help: 'Gateway decisions, by tenant, plugin, API and PluginErrorCode (OK when allowed and served)',
    labelNames: ['tenant', 'plugin', 'api', 'code'],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'classtop_gateway_call_duration_seconds',
    help: 'Time from a call reaching the gateway to its answer',
    labelNames: ['tenant', 'plugin', 'api'],
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });
  readonly denials = new Counter({
    name: 'classtop_gateway_denials_total',
    help: 'Calls refused by the gateway, by code',
    labelNames: ['tenant', 'plugin', 'code'],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'classtop_gateway_rate_limited_total',
    help: 'Calls refused for the rate or concurrency limit',
    labelNames: ['tenant', 'plugin'],
    registers: [this.registry],
  });
  readonly activeStreams = new Gauge({
    name: 'classtop_gateway_active_streams',
    help: 'Open streams, by RPC: SubscribeEvents, and CallStream (the calls of the SDK)',
    labelNames: ['tenant', 'plugin', 'rpc'],
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'classtop_gateway_events_dropped_total',
    help: 'Events dropped (oldest first) for subscribers that did not keep up',
    labelNames: ['tenant', 'plugin'],
    registers: [this.registry],
  });

  /** Gauges read when scraped: plugins by state, lifecycle jobs by state. */
  watch(plugins: () => Array<{ tenant: string; state: string }>, jobs: () => Promise<Record<string, number>>): void {
    new Gauge({
      name: 'classtop_plugins',
      help: 'Plugins by tenant and lifecycle state',
      labelNames: ['tenant', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of plugins()) this.inc({ tenant: p.tenant, state: p.state });
      },
    });
    new Gauge({
      name: 'classtop_lifecycle_jobs',
      help: 'Lifecycle queue depth by job state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        for (const [state, count] of Object.entries(await jobs())) this.set({ state }, count);
      },
    });
  }
}
