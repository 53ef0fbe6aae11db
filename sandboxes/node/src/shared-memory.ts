import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { PluginAPI } from './plugin-api.ts';

const SHM_DIR = '/dev/shm';
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

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
 */
export class SharedMemory {
  readonly name: string;
  readonly size: number;
  private fd: number | undefined;

  private constructor(name: string, size: number, fd: number) {
    this.name = name;
    this.size = size;
    this.fd = fd;
  }

  /** Creates (or resizes) the region `name`: 1-64 letters, digits, "_" or "-". */
  static create(name: string, size: number): SharedMemory {
    if (!NAME.test(name)) throw new Error(`shared memory name '${name}' must be 1-64 letters, digits, "_" or "-"`);
    if (!Number.isInteger(size) || size <= 0)
      throw new Error(`shared memory size must be a positive whole number of bytes`);
    const fd = openSync(path.join(SHM_DIR, name), 'w+', 0o600);
    ftruncateSync(fd, size);
    return new SharedMemory(name, size, fd);
  }

  /** Writes `data` at `offset`. */
  write(data: Uint8Array, offset = 0): void {
    if (this.fd === undefined) throw new Error(`shared memory '${this.name}' is closed`);
    if (offset + data.byteLength > this.size)
      throw new Error(`write past the end of shared memory '${this.name}' (${this.size} bytes)`);
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
