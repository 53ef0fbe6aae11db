import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
const REDACTED_PATHS = [
  'sessionToken',
  'session_token',
  '*.sessionToken',
  '*.session_token',
  'metadata.session_token',
  'secret',
  '*.secret',
];

export interface LoggerOptions {
  level: string;
  /** Write synchronously (tests, CLI one-shots); the orchestrator writes asynchronously. */
  sync?: boolean;
  /** Where the JSON lines go instead of stdout (`classtop-sandbox dev` reformats them for reading). */
  destination?: DestinationStream;
  /** File descriptor to write to: stdout (1) unless a command keeps stdout for its own output. */
  fd?: number;
}

/** The process's root logger: JSON lines on stdout (or `destination`, or `fd`), secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: 'classtop-sandbox',
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination({ dest: options.fd ?? 1, sync: options.sync ?? false }),
  );
}
