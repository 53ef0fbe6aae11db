import type { JobView } from '../../src/lifecycle/index.ts';

/** Host → plugin calls at a steady rate, from before a reload until shortly after it. */
export interface ReloadLoad {
  callsPerSecond: number;
  /** The loop's bound, whatever happens to the reload. */
  maxCalls: number;
  /** Calls flowing before the reload starts and after it ended. */
  aroundMs: number;
}

export interface ReloadUnderLoad<T> {
  job: JobView;
  /** The answers of the calls that succeeded. */
  results: T[];
  /** Every call that failed, with what it got. */
  failures: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `call` at `load.callsPerSecond` while `reload` runs (and `load.aroundMs` before and after),
 * and returns the reload job and every call's outcome: the zero-failed-calls check of a hot reload.
 */
export async function callsDuringReload<T>(
  call: () => Promise<{ status: number; body: T }>,
  reload: () => Promise<JobView>,
  load: ReloadLoad,
): Promise<ReloadUnderLoad<T>> {
  const results: T[] = [];
  const failures: string[] = [];
  let reloading = true;
  const calls = (async () => {
    const pending: Array<Promise<void>> = [];
    let stoppedAt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < load.maxCalls && Date.now() - stoppedAt < load.aroundMs; i++) {
      if (!reloading && stoppedAt === Number.POSITIVE_INFINITY) stoppedAt = Date.now();
      pending.push(
        call().then(
          (r) => void (r.status === 200 ? results.push(r.body) : failures.push(JSON.stringify(r.body))),
          (err: unknown) => void failures.push(String(err)),
        ),
      );
      await sleep(1_000 / load.callsPerSecond);
    }
    await Promise.all(pending);
  })();
  await sleep(load.aroundMs);
  const job = await reload();
  reloading = false;
  await calls;
  return { job, results, failures };
}
