import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';

/** One gateway decision. Payloads and tokens are never recorded. */
export interface AuditRecord {
  tenant: string;
  pluginId: string;
  instanceId: string;
  /** The RPC (Register, SubscribeEvents) or the host API name. */
  api: string;
  decision: 'allowed' | 'denied';
  code: string;
  latencyMs: number;
  reason?: string;
}

export type AuditLog = (record: AuditRecord) => void;

/**
 * Records are gathered in memory up to this many bytes, or for at most FLUSH_INTERVAL_MS, then
 * written at once: a write per record would cost the gateway's hot path a thread-pool round trip
 * per call. (Envoy flushes its access logs every 10 s by default; a crash loses at most the last
 * second here.)
 */
const BUFFER_BYTES = 8 * 1024;
const FLUSH_INTERVAL_MS = 1_000;

/** The audit stream: JSON lines on its own destination (a file, or stdout), written asynchronously. */
export function createAuditLog(destination: string): { record: AuditLog; close: () => void } {
  if (destination !== 'stdout') mkdirSync(path.dirname(destination), { recursive: true, mode: 0o700 });
  const logger: Logger = pino(
    {
      name: 'classtop-audit',
      base: { stream: 'audit' },
      redact: { paths: ['token', 'session_token', 'payload'], remove: true },
    },
    pino.destination({
      dest: destination === 'stdout' ? 1 : destination,
      sync: false,
      mkdir: true,
      minLength: BUFFER_BYTES,
    }),
  );
  const flusher = setInterval(() => logger.flush(), FLUSH_INTERVAL_MS).unref();
  return {
    record: (record) => logger.info(record),
    close: () => {
      clearInterval(flusher);
      logger.flush();
    },
  };
}
