import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DependencyError } from './dependency-error.ts';

/** What one resolved set of packages may hold; a wheel that unpacks to more is refused. */
const MAX_ENTRIES = 20_000;
const MAX_DEPTH = 32;
const KEY_VERSION = 'python-packages/1';

/**
 * The cache key of a resolution: the requirements, every wheel the bundle carries (name and
 * SHA-256 of its bytes) and the image id, since the same requirements may be met differently by
 * another image. Two plugins with the same of all three share one directory.
 */
export async function packagesKey(
  requirements: readonly string[],
  wheelsDir: string,
  imageId: string,
): Promise<string> {
  const wheels: string[] = [];
  for (const name of (await readdir(wheelsDir).catch(() => [])).sort()) {
    if (name.endsWith('.whl')) wheels.push(`${name}:${await sha256File(path.join(wheelsDir, name))}`);
  }
  const content = JSON.stringify({ v: KEY_VERSION, requirements: [...requirements].sort(), wheels, imageId });
  return createHash('sha256').update(content).digest('hex');
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Copies what the resolver container wrote into a directory of ours: directories and regular
 * files only (anything else is refused), everything read-only (0555 / 0444), bounded in count
 * and depth. What the plugin mounts is this copy, never the container's writable scratch.
 */
export async function copyReadOnly(from: string, to: string, pluginId: string): Promise<void> {
  let entries = 0;
  const copy = async (source: string, target: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw refused(pluginId, `${source} is nested deeper than ${MAX_DEPTH}`);
    await mkdir(target, { mode: 0o755 });
    for (const entry of await readdir(source, { withFileTypes: true })) {
      if (++entries > MAX_ENTRIES) throw refused(pluginId, `the installed packages hold over ${MAX_ENTRIES} files`);
      const [s, t] = [path.join(source, entry.name), path.join(target, entry.name)];
      if (entry.isDirectory()) await copy(s, t, depth + 1);
      else if (entry.isFile()) await copyFile(s, t).then(() => chmod(t, 0o444));
      else throw refused(pluginId, `${path.relative(from, s)} is neither a file nor a directory`);
    }
    await chmod(target, 0o555);
  };
  await copy(from, to, 0);
}

function refused(pluginId: string, what: string): DependencyError {
  return new DependencyError('DEPENDENCY_INSTALL_FAILED', `${pluginId}: python_packages: ${what}; refusing`);
}

/**
 * Moves a complete directory to its content-addressed name in one rename, so a reader never sees
 * half of it. When another resolution of the same content got there first, ours is removed and
 * theirs (identical) is used.
 */
export async function publish(complete: string, final: string): Promise<void> {
  await mkdir(path.dirname(final), { recursive: true, mode: 0o711 });
  try {
    await rename(complete, final);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    await makeWritable(complete);
    await rm(complete, { recursive: true, force: true });
  }
}

/** A read-only tree cannot be removed by an orchestrator that is not root: open its directories first. */
export async function makeWritable(dir: string): Promise<void> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name));
  }
}
