import type { Logger } from '../logging/index.ts';

/** Docker's multiplexed stream: each frame is an 8-byte header (stream, 0, 0, 0, length) and its bytes. */
const FRAME_HEADER_BYTES = 8;
const STREAM_NAMES: Record<number, 'stdout' | 'stderr' | undefined> = { 1: 'stdout', 2: 'stderr' };
/** How often a stream that ends while its container still runs is attached again. */
const MAX_REATTACHES = 3;

export type OutputListener = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

/** A container's output as it is followed: `ended` settles once the last bytes were passed on. */
export interface FollowedOutput {
  ended: Promise<void>;
  /** Settles when the output ended, or after `timeoutMs`, whichever is first. */
  endedWithin(timeoutMs: number): Promise<void>;
  stop(): void;
}

/** What following needs from the engine: an attach stream, and whether the container still runs. */
export interface OutputSource {
  attach(): Promise<NodeJS.ReadableStream>;
  running(): Promise<boolean>;
}

/**
 * Follows a container's stdout and stderr on an attach stream, not on its log file: the stream
 * carries every byte the container writes, in order, whatever the json-file log's rotation does
 * (a `logs` follow stops at the first rotation of a one-file log and never sees another line).
 * The engine does not outrun a slow reader here: the plugin's writes wait, so nothing is lost.
 * A stream that ends while the container still runs (the engine dropped the connection) is
 * attached again, a few times at most, and the gap logged.
 */
export async function followOutput(source: OutputSource, onData: OutputListener, log: Logger): Promise<FollowedOutput> {
  let current = await source.attach();
  let stopped = false;
  const ended = (async () => {
    for (let attaches = 0; ; attaches++) {
      await demux(current, onData);
      if (stopped || !(await source.running().catch(() => false))) return;
      if (attaches >= MAX_REATTACHES) {
        log.warn({ attaches }, 'output stream ended again while the container runs; its output is no longer followed');
        return;
      }
      log.warn({ attaches: attaches + 1 }, 'output stream ended while the container runs; attaching again');
      const next = await source.attach().catch((err: unknown) => {
        log.warn({ err }, 'attaching again failed; its output is no longer followed');
      });
      if (!next) return;
      current = next;
      if (stopped) (current as unknown as { destroy(): void }).destroy();
    }
  })();
  return {
    ended,
    endedWithin: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
    stop: () => {
      stopped = true;
      (current as unknown as { destroy(): void }).destroy();
    },
  };
}

/** Passes each frame's bytes on as they arrive; settles when the stream ends, errs or is destroyed. */
function demux(raw: NodeJS.ReadableStream, onData: OutputListener): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  return new Promise((resolve) => {
    raw.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= FRAME_HEADER_BYTES) {
        const length = pending.readUInt32BE(offset + 4);
        if (pending.length - offset - FRAME_HEADER_BYTES < length) break;
        const start = offset + FRAME_HEADER_BYTES;
        const stream = STREAM_NAMES[pending.readUInt8(offset)];
        if (stream) onData(stream, pending.subarray(start, start + length));
        offset = start + length;
      }
      pending = pending.subarray(offset);
    });
    raw.on('end', resolve);
    raw.on('close', resolve);
    raw.on('error', () => resolve());
  });
}
