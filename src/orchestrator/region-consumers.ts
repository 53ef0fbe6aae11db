import { SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { SharedMemoryRegion } from './shared-memory-region.ts';

export type RegionConsumer = (region: SharedMemoryRegion) => Promise<void> | void;

/**
 * The host-side consumers of one plugin's shared-memory regions (such as a video pipeline reading
 * frames). Each region the plugin announces goes to every consumer; the plugin's
 * notifySharedMemoryReady resolves only once all have finished with it, so the plugin may write
 * into it again from then on. A consumer that throws a SandboxError refuses the region with its
 * code and message; any other failure reaches the plugin as INTERNAL_ERROR without its detail.
 */
export class RegionConsumers {
  private readonly consumers = new Set<RegionConsumer>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Adds a consumer; returns a function that removes it. */
  add(consume: RegionConsumer): () => void {
    this.consumers.add(consume);
    return () => this.consumers.delete(consume);
  }

  /** Hands `region` to every consumer; settles when all have finished with it. */
  async deliver(region: SharedMemoryRegion): Promise<void> {
    try {
      await Promise.all([...this.consumers].map((consume) => consume(region)));
    } catch (err) {
      // A consumer's refusal reaches the plugin; the host's own failure stays in the host's log.
      if (err instanceof SandboxError) throw err;
      this.log.error({ err, region: region.name }, 'a shared-memory consumer failed');
      throw new SandboxError('INTERNAL_ERROR', `the host could not take shared memory region '${region.name}'`);
    }
  }
}
