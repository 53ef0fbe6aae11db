import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Resolves `relative` inside `root` on the real file system and proves it stays there: absolute
 * paths, `..` segments and symlinks that lead out are refused. Returns the canonical path, or a
 * sentence saying what is wrong (for the caller to put in its error).
 */
export function resolveInside(
  root: string,
  relative: string,
): { ok: true; path: string } | { ok: false; problem: string; missing?: true } {
  if (path.isAbsolute(relative)) {
    return { ok: false, problem: `'${relative}' is absolute; give a path relative to the plugin directory` };
  }
  if (relative.split(/[\\/]/).includes('..')) {
    return { ok: false, problem: `'${relative}' contains '..'; it must stay inside the plugin directory` };
  }
  let realRoot: string;
  let realTarget: string;
  try {
    realRoot = realpathSync(root);
    realTarget = realpathSync(path.join(realRoot, relative));
  } catch {
    return {
      ok: false,
      problem: `'${relative}' does not exist in the plugin directory; create it or fix the path`,
      missing: true,
    };
  }
  if (realTarget !== realRoot && !realTarget.startsWith(realRoot + path.sep)) {
    return { ok: false, problem: `'${relative}' resolves to ${realTarget}, outside the plugin directory (a symlink?)` };
  }
  return { ok: true, path: realTarget };
}
