import { writeFileSync } from 'node:fs';

/** Percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export function summarize(latenciesMs: number[]) {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    calls: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Prints rows as an aligned table, and writes them as JSON when `--json FILE` was given. */
export function report(title: string, rows: Array<Record<string, string | number>>, json: unknown): void {
  const header = Object.keys(rows[0] ?? {});
  const fmt = (v: string | number | undefined) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : (v ?? '');
  const widths = header.map((h) => Math.max(h.length, ...rows.map((r) => fmt(r[h]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(
    `\n${title}\n${line(header)}\n${rows.map((r) => line(header.map((h) => fmt(r[h])))).join('\n')}\n`,
  );
  const flag = process.argv.indexOf('--json');
  if (flag > 0 && process.argv[flag + 1])
    writeFileSync(process.argv[flag + 1] as string, `${JSON.stringify(json, null, 2)}\n`);
}

/** How long `fn` took, in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}
