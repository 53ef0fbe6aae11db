import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SandboxError } from '../errors/index.ts';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads a region a plugin wrote to its /dev/shm (the host side of the specification's shm.read).
 *
 * The bytes go `into` a buffer the caller owns and reuses (frame after frame, nothing is
 * allocated: a fresh 6 MB buffer costs more than the copy), or else into a new one. A read is
 * one copy out of the plugin's tmpfs; the plugin cannot change or shrink what was read.
 */
export async function readSharedMemory(
  shmDir: string,
  name: string,
  size: number,
  maxBytes: number,
  into?: Buffer,
): Promise<Buffer> {
  if (into && into.length < size) {
    throw new RangeError(`a buffer of ${into.length} bytes cannot hold shared memory region '${name}' (${size})`);
  }
  const handle = await openRegion(shmDir, name, size, maxBytes);
  try {
    const buffer = into ? into.subarray(0, size) : Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Throws unless the region `name` could be read now: what an announcement is checked against. */
export async function checkSharedMemory(shmDir: string, name: string, size: number, maxBytes: number): Promise<void> {
  await (await openRegion(shmDir, name, size, maxBytes)).close();
}

/**
 * The plugin controls its shm directory, so a region is opened without following a symlink and
 * must be a regular file of at least `size` bytes, and `size` within the plugin's shm size.
 */
async function openRegion(shmDir: string, name: string, size: number, maxBytes: number): Promise<FileHandle> {
  if (!NAME.test(name)) {
    throw new SandboxError('INVALID_REQUEST', `shared memory name '${name}' must be 1-64 letters, digits, "_" or "-"`);
  }
  if (!Number.isInteger(size) || size <= 0) {
    throw new SandboxError('INVALID_REQUEST', `shared memory size ${size} must be a positive whole number of bytes`);
  }
  if (size > maxBytes) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `shared memory size ${size} exceeds this plugin's shm_mb (${maxBytes} bytes)`,
    );
  }
  let handle: FileHandle;
  try {
    handle = await open(path.join(shmDir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'is a symlink' : code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code})`;
    throw new SandboxError(
      'NOT_FOUND',
      `shared memory region '${name}' ${why}; create it with SharedMemory.create first`,
      { cause: err },
    );
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size < size) {
      throw new SandboxError(
        'INVALID_REQUEST',
        `shared memory region '${name}' holds ${stat.size} bytes, fewer than the ${size} announced`,
      );
    }
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}
