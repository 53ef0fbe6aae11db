/** A region the plugin announced, as handed to the host's consumers. */
export interface SharedMemoryRegion {
  name: string;
  size: number;
  /** Reads the region as announced, into a new buffer or one the consumer owns and reuses. */
  read: (into?: Buffer) => Promise<Buffer>;
  /**
   * Lends the region's bytes in place, without a copy, until `use` settles (zeros from then
   * on, until the region is viewed again); fails with INVALID_REQUEST if the plugin shrank the
   * region meanwhile.
   */
  view: <T>(use: (bytes: Buffer) => T | Promise<T>) => Promise<T>;
  /**
   * Aborted when the plugin cancels the announcement or its deadline passes: the plugin may
   * write the region again from then on, so a consumer should stop reading it.
   */
  withdrawn: AbortSignal;
}

/** Takes each region the plugin announces; the plugin's announcement waits for it. */
export type SharedMemoryHandler = (region: SharedMemoryRegion) => Promise<void>;
