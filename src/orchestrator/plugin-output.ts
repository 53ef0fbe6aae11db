import type { Logger } from '../logging/index.ts';
import { LogForwarder } from '../sandbox/index.ts';

const RECENT_LINES = 20;
const TAIL_LINES = 5;
const LINES_PER_SECOND = 200;

/**
 * A plugin's stdout and stderr: forwarded to the orchestrator's log tagged with tenant and plugin
 * (lines capped in length and rate, dropped lines counted and reported), with the last lines kept
 * to explain a failure, whether or not the rate let them into the log.
 */
export class PluginOutput {
  private readonly recent: string[] = [];
  private readonly forwarders: Record<'stdout' | 'stderr', LogForwarder>;

  constructor(log: Logger, maxLineBytes: number) {
    const make = (stream: 'stdout' | 'stderr') =>
      new LogForwarder({
        maxLineBytes,
        maxLinesPerSecond: LINES_PER_SECOND,
        emit: (line, truncated) =>
          log[stream === 'stderr' ? 'warn' : 'info']({ stream, plugin: { line }, truncated }, 'plugin output'),
        onDropped: (count) => log.warn({ stream, dropped: count }, 'plugin output over the rate limit was dropped'),
        keep: (line) => {
          this.recent.push(line);
          if (this.recent.length > RECENT_LINES) this.recent.shift();
        },
      });
    this.forwarders = { stdout: make('stdout'), stderr: make('stderr') };
  }

  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.forwarders[stream].push(chunk);
  }

  /** The output ended: a last unterminated line is kept and forwarded, drops reported. */
  end(): void {
    this.forwarders.stdout.end();
    this.forwarders.stderr.end();
  }

  lines(): string[] {
    return [...this.recent];
  }

  /** "; last output:" and the last lines, for an error message; empty when there was none. */
  describeTail(): string {
    return describeTail(this.recent);
  }
}

/** "; last output:" and the last of `lines`, for an error message; empty when there are none. */
export function describeTail(lines: string[]): string {
  return lines.length > 0 ? `; last output:\n${lines.slice(-TAIL_LINES).join('\n')}` : '';
}
