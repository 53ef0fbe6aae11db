import { isDeepStrictEqual } from 'node:util';

/**
 * Whether `actual` has what `expected` says: an object needs those keys with matching values
 * (recursively; other keys may be there too); anything else must be equal. What `verify.calls[].expect` means.
 */
export function contains(actual: unknown, expected: unknown): boolean {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return false;
    return Object.entries(expected).every(([key, value]) => Object.hasOwn(actual, key) && contains(actual[key], value));
  }
  return isDeepStrictEqual(actual, expected);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
