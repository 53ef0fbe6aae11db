/**
 * Reads `read()` until `done(value)` holds, at most `maxPolls` times `intervalMs` apart, and
 * returns the last value read: the caller asserts on it. Bounded, so a test never hangs.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { intervalMs = 100, maxPolls = 300 }: { intervalMs?: number; maxPolls?: number } = {},
): Promise<T> {
  let value = await read();
  for (let poll = 1; poll < maxPolls && !done(value); poll++) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
