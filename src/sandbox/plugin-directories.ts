import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, rm, rmdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';

const run = promisify(execFile);

/**
 * The socket directory is a tmpfs of its own, so that a plugin cannot use it to fill the host's
 * disk or run what it wrote there: it holds two sockets (no data blocks), so a few pages and a few
 * inodes (its root, the two sockets, room for a plugin that re-binds) are plenty.
 */
const SOCKET_DIR_BYTES = 16 * 1024;
const SOCKET_DIR_INODES = 8;
/** Linux's O_PATH (not in fs.constants): a descriptor that names an inode without opening it. */
const O_PATH = 0o10000000;

/** The host side of one plugin instance's private directories. */
export interface PluginDirectories {
  /** Mounted at /run/classtop: holds gateway.sock (ours) and plugin.sock (the plugin's). */
  socketDir: string;
  gatewaySocket: string;
  /** Where the plugin creates its socket: in a directory it controls, so never connected to as is. */
  pluginSocket: string;
  /** Mounted at /dev/shm: a tmpfs of its own, capped at the plugin's shm size. */
  shmDir: string;
  /** The descriptor pinPluginSocket holds on the plugin's socket; closed with the directories. */
  pinnedSocket?: FileHandle;
}

export interface DirectoryRoots {
  runtimeDir: string;
  shmRoot: string;
  orchestratorId: string;
  uid: number;
  gid: number;
}

const isRoot = () => process.getuid?.() === 0;

/** Where one orchestrator keeps its instances' sockets and shm directories. */
export function orchestratorRoots(roots: DirectoryRoots): { sockets: string; shm: string } {
  return {
    sockets: path.join(roots.runtimeDir, roots.orchestratorId),
    shm: path.join(roots.shmRoot, roots.orchestratorId),
  };
}

export async function createPluginDirectories(
  roots: DirectoryRoots,
  instanceId: string,
  shmMb: number,
  log: Logger,
): Promise<PluginDirectories> {
  const base = orchestratorRoots(roots);
  const socketDir = path.join(base.sockets, instanceId);
  const shmDir = path.join(base.shm, instanceId);
  const dirs = {
    socketDir,
    shmDir,
    gatewaySocket: path.join(socketDir, 'gateway.sock'),
    pluginSocket: path.join(socketDir, 'plugin.sock'),
  };
  try {
    await mkdir(base.sockets, { recursive: true, mode: 0o711 });
    await mkdir(base.shm, { recursive: true, mode: 0o711 });
    await mkdir(socketDir, { mode: 0o700 });
    await mkdir(shmDir, { mode: 0o700 });
    if (isRoot()) {
      const owner = `mode=0700,uid=${roots.uid},gid=${roots.gid},nosuid,nodev,noexec`;
      await run('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=${SOCKET_DIR_BYTES},nr_inodes=${SOCKET_DIR_INODES},${owner}`,
        'tmpfs',
        socketDir,
      ]);
      await mountShm(shmDir, `size=${shmMb}m,${owner}`, log);
    } else {
      // Without root the directories cannot be given to the sandbox user, nor capped by a tmpfs.
      log.warn(
        { socketDir, shmDir },
        'not running as root: plugin directories are world-writable, and neither they nor shm are size-capped or noexec',
      );
      await chmod(socketDir, 0o777);
      await chmod(shmDir, 0o777);
    }
    return dirs;
  } catch (err) {
    await removePluginDirectories(dirs, log);
    throw err;
  }
}

/**
 * Mounts the plugin's shm tmpfs with huge pages for files of 2 MB and more (huge=within_size):
 * a 6 MB frame is then three pages rather than 1,536, and writing or reading it costs about what
 * a memcpy does (0.45 ms instead of 0.6 ms here). A kernel without huge pages for tmpfs refuses
 * the option; the mount then goes ahead with ordinary pages.
 */
async function mountShm(shmDir: string, options: string, log: Logger): Promise<void> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `${options},huge=within_size`, 'tmpfs', shmDir]);
  } catch (err) {
    log.debug({ err, shmDir }, 'tmpfs refused huge=within_size; shm uses ordinary pages');
    await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', shmDir]);
  }
}

/**
 * Pins the socket the plugin created: it must be a socket (not a symlink to somewhere the host
 * should never dial) owned by the sandbox user. The host holds an O_PATH descriptor of that very
 * inode and dials it through /proc/self/fd, so swapping plugin.sock later changes nothing. (A hard
 * link cannot pin it: the socket directory is a tmpfs of its own, and links cannot cross mounts.)
 */
export async function pinPluginSocket(dirs: PluginDirectories, uid: number): Promise<string> {
  const handle = await open(dirs.pluginSocket, O_PATH | constants.O_NOFOLLOW).catch(() => undefined);
  const found = await handle?.stat();
  if (!handle || !found?.isSocket() || (isRoot() && found.uid !== uid)) {
    await handle?.close();
    throw new SandboxError(
      'PERMISSION_DENIED',
      `${dirs.pluginSocket} is not a socket made by the plugin; refusing to connect`,
    );
  }
  // Without root the plugin cannot be told apart from us by owner anyway; dial the path.
  if (!isRoot()) {
    await handle.close();
    return dirs.pluginSocket;
  }
  await dirs.pinnedSocket?.close();
  dirs.pinnedSocket = handle;
  return `/proc/self/fd/${handle.fd}`;
}

/** Unmounts and removes an instance's directories and socket link; absent is fine. */
export async function removePluginDirectories(
  dirs: Pick<PluginDirectories, 'socketDir' | 'shmDir' | 'pinnedSocket'>,
  log: Logger,
): Promise<void> {
  const pinned = dirs.pinnedSocket;
  dirs.pinnedSocket = undefined;
  await pinned?.close();
  await unmountIfMounted(dirs.shmDir, log);
  await rm(dirs.shmDir, { recursive: true, force: true });
  await unmountIfMounted(dirs.socketDir, log);
  await rm(dirs.socketDir, { recursive: true, force: true });
}

/** Removes every instance directory an earlier run of this orchestrator left behind. */
export async function reapPluginDirectories(roots: DirectoryRoots, log: Logger): Promise<number> {
  const base = orchestratorRoots(roots);
  const names = new Set([...(await listDir(base.sockets)), ...(await listDir(base.shm))]);
  for (const name of names) {
    await removePluginDirectories({ socketDir: path.join(base.sockets, name), shmDir: path.join(base.shm, name) }, log);
  }
  return names.size;
}

/** Removes this orchestrator's shm base directory once no instance is left in it. */
export async function removeEmptyShmBase(roots: DirectoryRoots): Promise<void> {
  await rmdir(orchestratorRoots(roots).shm).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw err;
  });
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function unmountIfMounted(dir: string, log: Logger): Promise<void> {
  if (!isRoot()) return;
  try {
    await run('mountpoint', ['-q', dir]);
  } catch {
    return; // not a mount point (or absent)
  }
  try {
    await run('umount', [dir]);
  } catch (err) {
    log.warn({ err, dir }, 'umount failed; detaching lazily');
    await run('umount', ['-l', dir]).catch(async (lazyErr: unknown) => {
      // Someone else may have unmounted it meanwhile; only a mount still there is a failure.
      const stillMounted = await run('mountpoint', ['-q', dir]).then(
        () => true,
        () => false,
      );
      if (stillMounted) throw lazyErr;
    });
  }
}
