/**
 * The density benchmark's load: every plugin called host → plugin (`process_data` through the
 * admin API, as an operator's client calls it) at `rate` calls/s, on an open schedule spread evenly
 * over the plugins (a late answer does not delay the next call), and every plugin calling the host
 * at `rate` calls/s from its own timer (start_calls), timed in the plugin. Bounded: the schedule
 * ends after `durationMs`, and calls still unanswered `drainMs` later count as failed.
 */
import { Agent, request } from 'node:http';
import { adminJson, type FleetPlugin } from './density-fleet.ts';

const CALL_TIMEOUT_MS = 30_000;
const TICK_MS = 2;
const MAX_SOCKETS = 256;
const BODY = JSON.stringify({ name: 'bench' });

export interface LoadResult {
  latencies: number[];
  failed: number;
  sent: number;
  errors: string[];
  /** The schedule's worst lateness in this process (ms): its own share of the machine's load. */
  maxLagMs: number;
}

function call(agent: Agent, url: URL, plugin: FleetPlugin): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: `/v1/plugins/${plugin.tenant}/${plugin.pluginId}/functions/process_data`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
        timeout: CALL_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          if (response.statusCode === 200) return resolve(performance.now() - started);
          return reject(
            new Error(`HTTP ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`),
          );
        });
        response.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(BODY);
  });
}

/** Host → plugin through the admin API, `rate` calls/s per plugin, for `durationMs`. */
export async function hostToPlugin(
  adminUrl: string,
  plugins: FleetPlugin[],
  rate: number,
  durationMs: number,
  drainMs: number,
  stopped: () => boolean = () => false,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const url = new URL(adminUrl);
  const result: LoadResult = { latencies: [], failed: 0, sent: 0, errors: [], maxLagMs: 0 };
  const total = Math.floor((durationMs / 1000) * rate * plugins.length);
  const perMs = (rate * plugins.length) / 1000;
  const pending = new Set<Promise<void>>();
  // Once the drain gave up, calls still pending were counted as failed: their later end is not.
  let closed = false;
  const started = performance.now();
  while (result.sent < total && !stopped()) {
    const now = performance.now() - started;
    const due = Math.min(total, Math.floor(now * perMs) + 1);
    result.maxLagMs = Math.max(result.maxLagMs, now - result.sent / perMs);
    for (; result.sent < due; result.sent++) {
      const p = call(agent, url, plugins[result.sent % plugins.length] as FleetPlugin).then(
        (ms) => void (closed || result.latencies.push(ms)),
        (err: unknown) => {
          if (closed) return;
          result.failed++;
          if (result.errors.length < 5) result.errors.push((err as Error).message);
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  const drained = await Promise.race([
    Promise.all(pending).then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), drainMs)),
  ]);
  closed = true;
  if (!drained) result.failed += pending.size;
  agent.destroy();
  return result;
}

interface PluginStats {
  latencies: number[];
  failed: number;
  sent: number;
  errors: string[];
}

/** Tells every plugin to call the host `rate` times a second for `durationMs` (its own timer). */
export async function startPluginCalls(adminUrl: string, plugins: FleetPlugin[], rate: number, durationMs: number) {
  await Promise.all(
    plugins.map((p) =>
      adminJson(adminUrl, `/v1/plugins/${p.tenant}/${p.pluginId}/functions/start_calls`, { rate, durationMs }),
    ),
  );
}

/** Every plugin's own timings of its calls to the host, merged. */
export async function collectPluginCalls(adminUrl: string, plugins: FleetPlugin[]): Promise<LoadResult> {
  const result: LoadResult = { latencies: [], failed: 0, sent: 0, errors: [], maxLagMs: 0 };
  for (const p of plugins) {
    try {
      const s = await adminJson<PluginStats>(
        adminUrl,
        `/v1/plugins/${p.tenant}/${p.pluginId}/functions/call_stats`,
        {},
      );
      for (const ms of s.latencies) result.latencies.push(ms);
      result.sent += s.sent;
      // Calls sent and neither answered nor failed by the time the load ended count as failed.
      result.failed += s.sent - s.latencies.length;
      for (const e of s.errors) if (result.errors.length < 5) result.errors.push(`${p.pluginId}: ${e}`);
    } catch (err) {
      if (result.errors.length < 5) result.errors.push(`${p.pluginId}: call_stats failed: ${(err as Error).message}`);
    }
  }
  return result;
}
