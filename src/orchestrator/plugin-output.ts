import type { Logger } from '../logging/index.ts';
import { LogForwarder } from '../sandbox/index.ts';

const RECENT_LINES = 20;
const TAIL_LINES = 5;
const LINES_PER_SECOND = 200;

/**
 * A plugin's stdout and stderr: forwarded to the orchestrator's log tagged with tenant and plugin
 * (lines capped in length and rate), with the last lines kept to explain a failure.
 */
export class PluginOutput {
  private readonly recent: string[] = [];
  private readonly forwarders: Record<'stdout' | 'stderr', LogForwarder>;

  constructor(log: Logger, maxLineBytes: number) {
    const make = (stream: 'stdout' | 'stderr') =>
      new LogForwarder({
        maxLineBytes,
        maxLinesPerSecond: LINES_PER_SECOND,
        emit: (line, truncated) => {
          this.recent.push(line);
          if (this.recent.length > RECENT_LINES) this.recent.shift();
          log[stream === 'stderr' ? 'warn' : 'info']({ stream, plugin: { line }, truncated }, 'plugin output');
        },
        onDropped: (count) => log.warn({ stream, dropped: count }, 'plugin output over the rate limit was dropped'),
      });
    this.forwarders = { stdout: make('stdout'), stderr: make('stderr') };
  }

  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.forwarders[stream].push(chunk);
  }

  lines(): string[] {
    return [...this.recent];
  }

  /** "; last output:" and the last lines, for an error message; empty when there was none. */
  describeTail(): string {
    return this.recent.length > 0 ? `; last output:\n${this.recent.slice(-TAIL_LINES).join('\n')}` : '';
  }
}
