import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TrustError } from './trust-error.ts';

/** The signed manifest's own file name, at the plugin's root. */
export const SIGNED_MANIFEST_FILE = 'CLASSTOP-MANIFEST.json';

/**
 * Every regular file under `root` (POSIX relative paths, sorted), except the signed manifest and
 * the `excluded` directories (a plugin's whitelisted data paths, which change at run time).
 * A symlink anywhere is refused.
 */
export function listBundleFiles(root: string, excluded: readonly string[]): string[] {
  const skip = new Set(excluded.map((p) => path.posix.normalize(p).replace(/\/$/, '')));
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      if (rel === SIGNED_MANIFEST_FILE || skip.has(rel)) continue;
      const stat = lstatSync(path.join(root, rel));
      if (stat.isSymbolicLink())
        throw new TrustError('FILE_SYMLINK', `${rel} is a symlink; a signed plugin may contain regular files only`, {
          files: [rel],
        });
      if (stat.isDirectory()) walk(rel);
      else if (stat.isFile()) found.push(rel);
      else
        throw new TrustError(
          'FILE_SYMLINK',
          `${rel} is not a regular file; a signed plugin may contain regular files only`,
        );
    }
  };
  walk('');
  return found;
}

export function hashFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** SHA-256 of each file, by relative path. */
export function hashBundle(root: string, files: readonly string[]): Record<string, string> {
  return Object.fromEntries(files.map((rel) => [rel, hashFile(path.join(root, rel))]));
}

/**
 * Copies the bundle's regular files (refusing symlinks) into `target`, then makes the copy
 * read-only. Verification then reads the copy, and the container runs the copy: what runs is
 * exactly what was verified.
 */
export function snapshotBundle(source: string, target: string, excluded: readonly string[]): void {
  const files = listBundleFiles(source, excluded);
  const signed = lstatSync(path.join(source, SIGNED_MANIFEST_FILE), { throwIfNoEntry: false });
  if (signed?.isSymbolicLink()) throw new TrustError('FILE_SYMLINK', `${SIGNED_MANIFEST_FILE} is a symlink`);
  mkdirSync(target, { recursive: true, mode: 0o755 });
  for (const rel of [...files, ...(signed?.isFile() ? [SIGNED_MANIFEST_FILE] : [])]) {
    mkdirSync(path.dirname(path.join(target, rel)), { recursive: true, mode: 0o755 });
    copyFileSync(path.join(source, rel), path.join(target, rel));
  }
}
