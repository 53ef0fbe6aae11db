import { closeSync, constants, fstatSync, openSync, read } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { SandboxError } from '../errors/index.ts';

const readAt = promisify(read);
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The native addon built from native/shm-map.c (see there for how a shrinking region is survived). */
interface ShmMap {
  map(fd: number, size: number): ArrayBuffer;
  /** Puts zero pages in the mapping's place; true if a lost page was touched (it read zeros). */
  release(mapped: ArrayBuffer): boolean;
  /** Maps `fd` again into a released mapping, of the same size. */
  remap(mapped: ArrayBuffer, fd: number): void;
}

/** The addon, or nothing where it was not built; one that is there but fails to load is an error. */
function loadShmMap(): ShmMap | undefined {
  const file = 'native/shm-map.node';
  try {
    return createRequire(import.meta.url)(`./${file}`) as ShmMap;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw new Error(`the shm-map addon (dist/src/sandbox/${file}) does not load; rebuild it with npm run build`, {
      cause: err,
    });
  }
}

const shmMap = loadShmMap();

/**
 * Whether SharedMemoryViews lends the plugin's own pages (the addon is built: `npm run build`),
 * rather than a copy.
 */
export const regionsMapInPlace = shmMap !== undefined;

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
  const fd = openRegion(shmDir, name, size, maxBytes);
  try {
    const buffer = into ? into.subarray(0, size) : Buffer.allocUnsafe(size);
    const { bytesRead } = await readAt(fd, buffer, 0, size, 0);
    if (bytesRead < size) throw shrunk(name, size);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** Mappings one plugin keeps for reuse, by region name: a plugin may announce many names. */
const KEPT_MAPPINGS = 8;

/**
 * Lends a plugin's regions to the host in place, without a copy. A region announced frame after
 * frame keeps its mapping from one view to the next: a new one each time would hand V8 6 MB of
 * external memory per frame, and the garbage collections that set off cost more than the frames.
 */
export class SharedMemoryViews {
  private readonly shmDir: string;
  private readonly maxBytes: number;
  private readonly kept = new Map<string, ArrayBuffer>();

  constructor(shmDir: string, maxBytes: number) {
    this.shmDir = shmDir;
    this.maxBytes = maxBytes;
  }

  /**
   * Lends region `name` to `use`: `bytes` maps the plugin's pages (privately: what the host
   * writes stays with the host) until `use` settles, and reads zeros from then on (until the
   * region's next view), so no work on `bytes` should outlive `use`. Should the plugin shrink
   * the region meanwhile, `use` reads zeros where its bytes were, and the view ends with
   * INVALID_REQUEST. Without the addon, `bytes` is a copy.
   */
  async view<T>(name: string, size: number, use: (bytes: Buffer) => T | Promise<T>): Promise<T> {
    if (!shmMap) return use(await readSharedMemory(this.shmDir, name, size, this.maxBytes));
    const fd = openRegion(this.shmDir, name, size, this.maxBytes);
    let mapped: ArrayBuffer;
    try {
      mapped = this.mapAgain(shmMap, name, size, fd) ?? shmMap.map(fd, size);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    // A shrunken region outranks whatever `use` made of the zeros it read. A touch of a lost
    // page tells the addon; a system call handed `bytes` (a write to a file, say) only gets
    // EFAULT, so the file's size is looked at too.
    const release = () => {
      const touchedLostPage = shmMap.release(mapped);
      this.keep(name, mapped);
      const cut = fstatSync(fd).size < size;
      closeSync(fd);
      if (touchedLostPage || cut) throw shrunk(name, size);
    };
    let result: T;
    try {
      result = await use(Buffer.from(mapped));
    } catch (err) {
      release();
      throw err;
    }
    release();
    return result;
  }

  /** The kept mapping of `name`, if it has this size, with the region mapped into it again. */
  private mapAgain(addon: ShmMap, name: string, size: number, fd: number): ArrayBuffer | undefined {
    const kept = this.kept.get(name);
    if (kept?.byteLength !== size) return undefined;
    this.kept.delete(name); // a view of the same region meanwhile maps its own
    addon.remap(kept, fd);
    return kept;
  }

  private keep(name: string, mapped: ArrayBuffer): void {
    this.kept.delete(name);
    this.kept.set(name, mapped);
    const oldest = this.kept.keys().next().value;
    if (this.kept.size > KEPT_MAPPINGS && oldest !== undefined) this.kept.delete(oldest);
  }
}

function shrunk(name: string, size: number): SandboxError {
  return new SandboxError(
    'INVALID_REQUEST',
    `shared memory region '${name}' shrank below the ${size} bytes announced while the host read it; ` +
      'keep a region whole until notifySharedMemoryReady resolves',
  );
}

/** Throws unless the region `name` could be read now: what an announcement is checked against. */
export function checkSharedMemory(shmDir: string, name: string, size: number, maxBytes: number): void {
  closeSync(openRegion(shmDir, name, size, maxBytes));
}

/**
 * The plugin controls its shm directory, so a region is opened without following a symlink and
 * must be a regular file of at least `size` bytes, and `size` within the plugin's shm size.
 * Open and stat are synchronous: on the plugin's tmpfs they are memory operations of a few
 * microseconds, not worth a thread-pool round trip each.
 */
function openRegion(shmDir: string, name: string, size: number, maxBytes: number): number {
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
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under the name must not hold the open (it is then refused below).
    fd = openSync(path.join(shmDir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
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
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new SandboxError('INVALID_REQUEST', `shared memory region '${name}' is not a regular file`);
    }
    if (stat.size < size) {
      throw new SandboxError(
        'INVALID_REQUEST',
        `shared memory region '${name}' holds ${stat.size} bytes, fewer than the ${size} announced`,
      );
    }
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
