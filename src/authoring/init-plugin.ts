import fs from 'node:fs';
import path from 'node:path';
import { SandboxError } from '../errors/index.ts';
import { templateFiles, type PluginSkeleton } from './templates.ts';

/**
 * Writes a new plugin's files into `directory` (created if missing). Nothing is overwritten: when
 * any file the scaffold would write exists already, nothing is written and the error names it.
 * Returns the paths written, relative to the directory.
 */
export function initPlugin(directory: string, skeleton: PluginSkeleton): string[] {
  const files = templateFiles(skeleton);
  const existing = files.map((f) => f.path).filter((p) => fs.existsSync(path.join(directory, p)));
  if (existing.length > 0) {
    throw new SandboxError(
      'ALREADY_EXISTS',
      `${directory} already has ${existing.join(', ')}; init writes a new plugin only into a directory without them ` +
        '(choose another directory, or move those files away)',
    );
  }
  for (const file of files) {
    const target = path.join(directory, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.text, { flag: 'wx' });
  }
  return files.map((f) => f.path);
}
