/** Lines are counted against the rate per window of this length. */
const WINDOW_MS = 1_000;

/**
 * Splits a plugin's output into lines and passes each on, bounded: a line longer than
 * `maxLineBytes` is cut, and past `maxLinesPerSecond` lines are dropped and counted, so that a
 * chatty or hostile plugin cannot flood the orchestrator's log. The count of a window's dropped
 * lines is reported when the window ends, by a timer: a plugin that floods and then falls silent
 * (or dies) is reported too. Every line, forwarded or dropped, goes to `keep` (for a tail).
 */
export class LogForwarder {
  private readonly maxLineBytes: number;
  private readonly maxLinesPerSecond: number;
  private readonly emit: (line: string, truncated: boolean) => void;
  private readonly onDropped: (count: number) => void;
  private readonly keep: (line: string) => void;
  private partial = '';
  private windowStart = 0;
  private linesInWindow = 0;
  private dropped = 0;
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(options: {
    maxLineBytes: number;
    maxLinesPerSecond: number;
    emit: (line: string, truncated: boolean) => void;
    onDropped: (count: number) => void;
    keep?: (line: string) => void;
  }) {
    this.maxLineBytes = options.maxLineBytes;
    this.maxLinesPerSecond = options.maxLinesPerSecond;
    this.emit = options.emit;
    this.onDropped = options.onDropped;
    this.keep = options.keep ?? (() => undefined);
  }

  push(chunk: Buffer, now = Date.now()): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > this.maxLineBytes) {
      lines.push(this.partial);
      this.partial = '';
    }
    for (const line of lines) this.forward(line, now);
  }

  /** The output ended: passes on a last line without a newline, and reports what was dropped. */
  end(now = Date.now()): void {
    if (this.partial) this.forward(this.partial, now);
    this.partial = '';
    this.reportDropped();
  }

  private forward(line: string, now: number): void {
    const truncated = Buffer.byteLength(line) > this.maxLineBytes;
    const cut = truncated ? Buffer.from(line).subarray(0, this.maxLineBytes).toString('utf8') : line;
    this.keep(cut);
    if (now - this.windowStart >= WINDOW_MS) {
      this.reportDropped();
      this.windowStart = now;
      this.linesInWindow = 0;
    }
    if (this.linesInWindow >= this.maxLinesPerSecond) {
      this.dropped++;
      // Reported when the window ends, whether or not another line comes.
      this.reportTimer ??= setTimeout(() => this.reportDropped(), this.windowStart + WINDOW_MS - now).unref();
      return;
    }
    this.linesInWindow++;
    this.emit(cut, truncated);
  }

  private reportDropped(): void {
    clearTimeout(this.reportTimer);
    this.reportTimer = undefined;
    if (this.dropped === 0) return;
    const count = this.dropped;
    this.dropped = 0;
    this.onDropped(count);
  }
}
