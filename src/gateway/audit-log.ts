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

/** The audit stream: JSON lines on its own destination (a file, or stdout), written asynchronously. */
export function createAuditLog(destination: string): { record: AuditLog; flush: () => void } {
  if (destination !== 'stdout') mkdirSync(path.dirname(destination), { recursive: true, mode: 0o700 });
  const logger: Logger = pino(
    {
      name: 'classtop-audit',
      base: { stream: 'audit' },
      redact: { paths: ['token', 'session_token', 'payload'], remove: true },
    },
    pino.destination({ dest: destination === 'stdout' ? 1 : destination, sync: false, mkdir: true }),
  );
  return { record: (record) => logger.info(record), flush: () => logger.flush() };
}
