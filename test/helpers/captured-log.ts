import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/logging/index.ts';

/** One JSON log line as pino wrote it. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** pino's level numbers. */
export const LOG_LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A real pino logger whose lines are kept, parsed, for a test to read. */
export function capturedLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}
