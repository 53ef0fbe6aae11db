import { execFile } from 'node:child_process';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Logger } from '../logging/index.ts';
import { unmountIfMounted } from './plugin-directories.ts';

const run = promisify(execFile);

/** A directory a one-shot container may write: a tmpfs of its own, capped, owned by the sandbox user. */
export interface ScratchLimits {
  bytes: number;
  inodes: number;
  uid: number;
  gid: number;
}

/**
 * Makes `dir` a tmpfs of its own (size- and inode-capped, nosuid, nodev, noexec), so a container
 * writing there can neither fill the host's disk nor run what it wrote. Without root it is a plain
 * directory, with a warning, as the plugin directories are.
 */
export async function createScratchDirectory(dir: string, limits: ScratchLimits, log: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    if (process.getuid?.() === 0) {
      const options = `size=${limits.bytes},nr_inodes=${limits.inodes},mode=0700,uid=${limits.uid},gid=${limits.gid}`;
      await run('mount', ['-t', 'tmpfs', '-o', `${options},nosuid,nodev,noexec`, 'tmpfs', dir]);
    } else {
      log.warn({ dir }, 'not running as root: the scratch directory is world-writable and not size-capped');
      await chmod(dir, 0o777);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Unmounts and removes a scratch directory; absent is fine. */
export async function removeScratchDirectory(dir: string, log: Logger): Promise<void> {
  await unmountIfMounted(dir, log);
  await rm(dir, { recursive: true, force: true });
}
