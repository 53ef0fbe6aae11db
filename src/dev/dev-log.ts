import { createLogger, type Logger } from '../logging/index.ts';

/** pino's numeric levels, as the readable log names them. */
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const WARN = 40;
/** Widest level name, so messages line up. */
const LEVEL_WIDTH = 5;

/** One pino record, as much of it as the readable log reads. */
interface LogRecord {
  level?: number;
  time?: number;
  msg?: string;
  stream?: 'stdout' | 'stderr';
  plugin?: { message?: string; line?: string };
  reason?: string;
  to?: string;
  err?: { message?: string };
}

/**
 * One readable line for a log record, or undefined for the orchestrator's routine records. The
 * plugin's own log calls and output are always shown; the orchestrator's only when they matter to
 * the author: state changes, warnings and errors.
 */
export function formatRecord(json: string): string | undefined {
  let record: LogRecord;
  try {
    record = JSON.parse(json) as LogRecord;
  } catch {
    return json.trimEnd() || undefined;
  }
  const level = record.level ?? 30;
  const head = `${clock(record.time)} ${(LEVEL_NAMES[level] ?? String(level)).padEnd(LEVEL_WIDTH)}`;
  const body = describe(record, level);
  // A message of several lines (a traceback) stays one entry: its next lines are indented under it.
  return body === undefined ? undefined : `${head} ${body.replace(/\n/g, `\n${' '.repeat(head.length + 1)}`)}`;
}

function describe(record: LogRecord, level: number): string | undefined {
  if (record.msg === 'plugin log') return record.plugin?.message ?? '';
  if (record.msg === 'plugin output') return `[${record.stream ?? 'stdout'}] ${record.plugin?.line ?? ''}`;
  if (record.msg === 'state changed') return `[sandbox] ${record.to}: ${record.reason ?? ''}`;
  if (level < WARN) return undefined;
  const detail = record.err?.message ?? record.reason;
  return `[sandbox] ${record.msg ?? ''}${detail ? `: ${detail}` : ''}`;
}

/** HH:MM:SS.mmm in local time: a dev session is read as it happens. */
function clock(time: number | undefined): string {
  const at = new Date(time ?? Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * The logger of a dev session: pino as everywhere else (same redaction, same records), its lines
 * written readably to `out` instead of as JSON.
 */
export function createDevLogger(level: string, out: NodeJS.WritableStream): Logger {
  const destination = {
    write(chunk: string): void {
      for (const json of chunk.split('\n')) {
        const line = json && formatRecord(json);
        if (line) out.write(`${line}\n`);
      }
    },
  };
  return createLogger({ level, destination });
}
