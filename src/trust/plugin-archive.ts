import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { create, extract } from 'tar';
import { SandboxError } from '../errors/index.ts';
import { loadManifest, NO_OPERATOR_LIMITS } from '../manifest/index.ts';
import { listBundleFiles, SIGNED_MANIFEST_FILE } from './bundle-files.ts';
import { readSignedManifest, verifySignedBundle } from './signed-manifest.ts';

/** A packed plugin's file extension. */
export const ARCHIVE_EXTENSION = '.ctp';

/** `pack DIR`: one gzipped tar of a signed plugin (its signed files and the signed manifest). */
export async function packPlugin(dir: string, out: string): Promise<{ file: string; files: number }> {
  const manifest = loadManifest(dir, NO_OPERATOR_LIMITS);
  const signed = readSignedManifest(manifest.directory);
  if (!signed)
    throw new SandboxError(
      'INVALID_REQUEST',
      `${manifest.directory} is not signed; run \`classtop-sandbox sign\` first`,
    );
  const { payload } = verifySignedBundle(manifest.directory, signed);
  const files = [...listBundleFiles(manifest.directory, payload.excluded), SIGNED_MANIFEST_FILE];
  const file = out.endsWith(ARCHIVE_EXTENSION) ? out : `${out}${ARCHIVE_EXTENSION}`;
  await create({ gzip: true, file, cwd: manifest.directory, portable: true, noMtime: true }, files);
  return { file, files: files.length };
}

/**
 * Unpacks an archive into `target`, regular files and directories only: links, devices and paths
 * leaving `target` are dropped (the signature check then reports them missing).
 */
export async function unpackPlugin(file: string, target: string): Promise<void> {
  mkdirSync(target, { recursive: true, mode: 0o700 });
  try {
    await extract({
      file,
      cwd: target,
      strict: true,
      preservePaths: false,
      filter: (entryPath, entry) =>
        !path.isAbsolute(entryPath) && 'type' in entry && (entry.type === 'File' || entry.type === 'Directory'),
    });
  } catch (err) {
    throw new SandboxError('INVALID_REQUEST', `${file} is not a readable plugin archive: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
