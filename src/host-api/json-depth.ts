const OPEN_ARRAY = 0x5b; // [
const OPEN_OBJECT = 0x7b; // {
const CLOSE_ARRAY = 0x5d; // ]
const CLOSE_OBJECT = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether the JSON text `json` (UTF-8) nests arrays and objects deeper than `maxDepth` levels.
 * One pass over the bytes, counting brackets outside strings, with no recursion, so a hostile
 * payload cannot blow the stack here; it runs before JSON.parse, whose result JSON.stringify (the
 * host's Redis serialisation) would walk recursively. Multi-byte UTF-8 sequences never contain
 * these ASCII bytes, so scanning bytes is exact. Malformed JSON is left for JSON.parse to refuse.
 */
export function nestsDeeperThan(json: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === BACKSLASH)
        i++; // the escaped byte cannot end the string
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
