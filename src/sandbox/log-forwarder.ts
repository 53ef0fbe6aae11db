/**
 * Splits a plugin's output into lines and passes each on, bounded: a line longer than
 * `maxLineBytes` is cut, and past `maxLinesPerSecond` lines are dropped and counted, so that a
 * chatty or hostile plugin cannot flood the orchestrator's log.
 */
export class LogForwarder {
  private readonly maxLineBytes: number;
  private readonly maxLinesPerSecond: number;
  private readonly emit: (line: string, truncated: boolean) => void;
  private readonly onDropped: (count: number) => void;
  private partial = '';
  private windowStart = 0;
  private linesInWindow = 0;
  private dropped = 0;

  constructor(options: {
    maxLineBytes: number;
    maxLinesPerSecond: number;
    emit: (line: string, truncated: boolean) => void;
    onDropped: (count: number) => void;
  }) {
    this.maxLineBytes = options.maxLineBytes;
    this.maxLinesPerSecond = options.maxLinesPerSecond;
    this.emit = options.emit;
    this.onDropped = options.onDropped;
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

  private forward(line: string, now: number): void {
    if (now - this.windowStart >= 1_000) {
      if (this.dropped > 0) this.onDropped(this.dropped);
      this.windowStart = now;
      this.linesInWindow = 0;
      this.dropped = 0;
    }
    if (this.linesInWindow >= this.maxLinesPerSecond) {
      this.dropped++;
      return;
    }
    this.linesInWindow++;
    const truncated = Buffer.byteLength(line) > this.maxLineBytes;
    this.emit(truncated ? Buffer.from(line).subarray(0, this.maxLineBytes).toString('utf8') : line, truncated);
  }
}
