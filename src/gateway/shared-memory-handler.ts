import type { EventEmitter } from 'node:events';
import { SandboxError } from '../errors/index.ts';
import type { PluginApiResponse } from '../protocol/index.ts';
import type { GatewayOptions } from './gateway-options.ts';

/** The host API the gateway answers itself, as the region lives in the plugin's shm directory. */
export const SHARED_MEMORY_READY_API = 'notify_shared_memory_ready';

/** A region the plugin announced, as the API's payload schema parsed it. */
export interface SharedMemoryRegion {
  name: string;
  size: number;
}

/**
 * The plugin's shm region is ready (notify_shared_memory_ready): answered once the host has taken
 * it. The host's consumers are told (`withdrawn`) and the answer is TIMEOUT when the call's capped
 * deadline passes first, or the plugin cancels it: from then on the plugin may write the region
 * again.
 */
export async function announceSharedMemory(
  region: SharedMemoryRegion,
  deadlineMs: number,
  plugin: EventEmitter,
  onReady: GatewayOptions['onSharedMemoryReady'],
): Promise<PluginApiResponse> {
  const waitMs = Math.max(0, deadlineMs - Date.now());
  const withdrawn = new AbortController();
  const ended = new Promise<never>((_, reject) =>
    withdrawn.signal.addEventListener('abort', () => reject(withdrawn.signal.reason as Error), { once: true }),
  );
  const timer = setTimeout(
    () =>
      withdrawn.abort(
        new SandboxError('TIMEOUT', `the host did not take shared memory region '${region.name}' within ${waitMs} ms`),
      ),
    waitMs,
  );
  const onCancelled = () =>
    withdrawn.abort(new SandboxError('TIMEOUT', `notify_shared_memory_ready: cancelled by the plugin`));
  plugin.once('cancelled', onCancelled);
  try {
    await Promise.race([onReady(region.name, region.size, withdrawn.signal), ended]);
  } finally {
    clearTimeout(timer);
    plugin.off('cancelled', onCancelled);
  }
  return { success: true, error_message: '', result: Buffer.from('true'), error_code: 'OK' };
}
