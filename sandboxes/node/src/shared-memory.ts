import { closeSync, fstatSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PluginAPI } from './plugin-api.ts';

const SHM_DIR = '/dev/shm';
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The native addon built from native/shm-shared.c, which maps a region into the plugin. */
interface ShmShared {
  map(fd: number, size: number): ArrayBuffer;
}

/** The addon, or nothing where it was not built (regions are then written with write(2)). */
function loadShmShared(): ShmShared | undefined {
  const file = './native/shm-shared.node';
  try {
    return createRequire(import.meta.url)(file) as ShmShared;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw new Error(`the SDK's shm-shared addon (dist/${file.slice(2)}) does not load; rebuild the SDK`, {
      cause: err,
    });
  }
}

const shmShared = loadShmShared();

/** The region mapped into the plugin, its pages taken first; nothing without the addon. */
function mapRegion(fd: number, size: number): Uint8Array | undefined {
  return shmShared && new Uint8Array(shmShared.map(fd, size));
}

/**
 * A region of the plugin's /dev/shm (its own tmpfs, which the host can read): for large data such
 * as a 1920×1080×3 frame, written here and announced with `notifyReady`, instead of sent in a
 * gRPC payload (the specification's zero-copy path).
 *
 * ```js
 * const frame = SharedMemory.create('frame', 1920 * 1080 * 3);
 * frame.write(pixels);
 * await frame.notifyReady(this.api);            // the host reads it: GET /v1/plugins/…/shm/frame
 * ```
 *
 * In the sandbox image the region is mapped into the plugin (the SDK's shm-shared addon), so a
 * write is one copy into the very pages the host reads; elsewhere it is a write(2).
 */
export class SharedMemory {
  readonly name: string;
  readonly size: number;
  private fd: number | undefined;
  private mapped: Uint8Array | undefined;

  private constructor(name: string, size: number, fd: number, mapped: Uint8Array | undefined) {
    this.name = name;
    this.size = size;
    this.fd = fd;
    this.mapped = mapped;
  }

  /**
   * Creates (or resizes) the region `name`: 1-64 letters, digits, "_" or "-". Its pages are
   * taken from the plugin's shm_mb at once, so a region that does not fit fails here.
   */
  static create(name: string, size: number): SharedMemory {
    if (!NAME.test(name)) throw new Error(`shared memory name '${name}' must be 1-64 letters, digits, "_" or "-"`);
    if (!Number.isInteger(size) || size <= 0)
      throw new Error(`shared memory size must be a positive whole number of bytes`);
    const file = path.join(SHM_DIR, name);
    const fd = openSync(file, 'w+', 0o600);
    try {
      ftruncateSync(fd, size);
      return new SharedMemory(name, size, fd, mapRegion(fd, size));
    } catch (err) {
      closeSync(fd);
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      rmSync(file, { force: true }); // no region half made
      throw new Error(
        `shared memory '${name}' (${size} bytes) does not fit in what is left of this plugin's shm_mb; ` +
          'raise sandbox.shm_mb in plugin.yaml, or close regions no longer used',
        { cause: err },
      );
    }
  }

  /** Writes `data` at `offset`. */
  write(data: Uint8Array, offset = 0): void {
    if (this.fd === undefined) throw new Error(`shared memory '${this.name}' is closed`);
    if (offset + data.byteLength > this.size)
      throw new Error(`write past the end of shared memory '${this.name}' (${this.size} bytes)`);
    if (this.mapped && fstatSync(this.fd).size < this.size) {
      // A region cut short behind the SDK's back (a truncate of its file) would fault at this
      // write and kill the plugin: it is made whole, and mapped again, first.
      ftruncateSync(this.fd, this.size);
      this.mapped = mapRegion(this.fd, this.size);
    }
    if (this.mapped) return this.mapped.set(data, offset);
    let done = 0;
    while (done < data.byteLength) done += writeSync(this.fd, data, done, data.byteLength - done, offset + done);
  }

  /**
   * Tells the host that `size` bytes (all by default) are ready to read. Resolves once the host
   * has taken them (its consumers have read the region), so the region may be written again;
   * a producer that streams keeps a ring of regions and writes one while the host reads another.
   * The announcement leaves when the event loop next turns: a producer that goes straight on to
   * write its next frame (synchronously) holds it back until then, so yield first
   * (`await new Promise((resolve) => setImmediate(resolve))`).
   */
  notifyReady(api: PluginAPI, size = this.size): Promise<boolean> {
    return api.notifySharedMemoryReady(this.name, size);
  }

  /** Closes the region; its mapping goes once collected. The file stays until the plugin stops. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.mapped = undefined;
  }
}
