import { closeSync, mkdirSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import path from 'node:path';
import { AdminServer } from '../admin/index.ts';
import { loadConfig, type SandboxConfig } from '../config/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import { Orchestrator } from '../orchestrator/index.ts';
import { EmbeddedRedis } from '../redis/index.ts';

/** How long the last resort (removing containers without onDisable) may take after the timeout. */
const FORCED_REMOVAL_TIMEOUT_MS = 20_000;
/** Exit statuses: every plugin disabled in order, or the last resort was needed. */
const EXIT_CLEAN = 0;
const EXIT_FORCED = 1;
/** What a terminal or supervisor sends the group: Ctrl-C, stop, the terminal closing, Ctrl-\. */
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * `classtop-sandbox up [--config FILE]`: runs the orchestrator in the foreground until Ctrl-C or
 * SIGTERM, which disable every plugin (its onDisable runs) and remove its container, sockets and
 * shm before the embedded Redis is stopped, last, and the process exits. The embedded Redis runs
 * in a session of its own, so the signal a terminal sends to the whole foreground process group
 * does not stop it under the plugins' onDisable.
 */
export async function upCommand(configFile: string | undefined): Promise<void> {
  const config = loadConfig(configFile);
  const log = createLogger({ level: config.logLevel });

  let embedded: EmbeddedRedis | undefined;
  let redisUrl = config.redis.url;
  if (!redisUrl) {
    const dataDir = path.join(config.stateDir, config.orchestratorId, 'redis');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    embedded = await EmbeddedRedis.start(dataDir);
    redisUrl = embedded.url;
    log.info({ dataDir }, 'embedded redis-server started');
  }

  const orchestrator = new Orchestrator(config, log);
  const admin = new AdminServer(orchestrator, log);
  const started = orchestrator.start(redisUrl);
  const stopRedis = async () => {
    if (!embedded) return;
    await embedded.stop();
    log.info('embedded redis-server stopped');
  };

  // Known now: after a hangup, isatty() on the dead terminal fails too.
  const onTerminal = [1, 2].filter((fd) => isatty(fd));
  let shuttingDown: Promise<number> | undefined;
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => {
      if (signal === 'SIGHUP') detachFromTerminal(onTerminal);
      if (shuttingDown) {
        alreadyStopping(signal, config, log);
        return;
      }
      shuttingDown = shutdown(signal, { config, log, admin, orchestrator, stopRedis });
      void shuttingDown.then(async (code) => {
        await flush(log);
        process.exit(code);
      });
    });
  }

  try {
    await started;
    if (shuttingDown) return; // a signal during start-up: no admin API, no banner
    await admin.listen(config.admin.listen);
  } catch (err) {
    shuttingDown ??= shutdown('start-up failure', { config, log, admin, orchestrator, stopRedis });
    await shuttingDown;
    await flush(log);
    throw err;
  }
  const plugins = orchestrator.list();
  const enabled = plugins.filter((p) => p.state === 'ENABLED').length;
  process.stderr.write(
    `classtop-sandbox: ${enabled} of ${plugins.length} plugins enabled; admin API on http://${config.admin.listen}; ` +
      `\`classtop-sandbox status\` lists them; Ctrl-C stops.\n`,
  );
}

export interface Running {
  config: SandboxConfig;
  log: Logger;
  admin: AdminServer;
  orchestrator: Orchestrator;
  stopRedis: () => Promise<void>;
}

/**
 * Disables every plugin in order, then stops Redis; resolves with the exit status. Past
 * `shutdownTimeoutMs` it stops waiting for that and removes every container and directory of
 * this orchestrator without onDisable, so nothing is left running or mounted either way.
 */
export async function shutdown(
  signal: string,
  { config, log, admin, orchestrator, stopRedis }: Running,
): Promise<number> {
  log.info({ signal }, 'shutting down');
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<'overtime'>((resolve) => {
    timer = setTimeout(() => resolve('overtime'), config.shutdownTimeoutMs);
  });
  const inOrder = (async () => {
    await admin.close();
    await orchestrator.stop();
    return 'done' as const;
  })();
  const outcome = await Promise.race([inOrder, overtime]).catch((err: unknown) => {
    log.error({ err }, 'shutdown failed; removing what is left without disabling');
    return 'failed' as const;
  });
  clearTimeout(timer);
  let code = EXIT_CLEAN;
  if (outcome !== 'done') {
    if (outcome === 'overtime')
      log.error(
        { shutdownTimeoutMs: config.shutdownTimeoutMs },
        'disabling in order took too long; removing containers and directories without onDisable',
      );
    code = EXIT_FORCED;
    await withTimeout(orchestrator.removeEverything(), FORCED_REMOVAL_TIMEOUT_MS).catch((err: unknown) =>
      log.error({ err }, 'could not remove every container and directory; the next `up` removes them'),
    );
  }
  await stopRedis().catch((err: unknown) => log.error({ err }, 'could not stop the embedded redis-server'));
  log.info({ code }, 'stopped');
  return code;
}

/** A second Ctrl-C does not cut the shutdown short (that would leave containers behind): it says so. */
function alreadyStopping(signal: string, config: SandboxConfig, log: Logger): void {
  log.warn({ signal }, 'already stopping; the signal is ignored');
  process.stderr.write(
    `classtop-sandbox: already stopping (${signal} ignored): disabling the plugins, then removing their ` +
      `containers; after ${config.shutdownTimeoutMs} ms (shutdownTimeoutMs) they are removed without onDisable. ` +
      `SIGKILL would leave them for the next \`classtop-sandbox up\` to remove.\n`,
  );
}

/**
 * After a hangup the terminal is gone: a write to it fails, and the logger's flush retries such a
 * write for ever (sonic-boom sleeps and retries any error in flushSync), which stalled the shutdown
 * with the containers still running. Stdout and stderr are pointed at /dev/null first: closing fd
 * 1 or 2 and opening a file takes that lowest free number.
 */
export function detachFromTerminal(fds: number[]): void {
  for (const fd of fds) {
    closeSync(fd);
    const reopened = openSync('/dev/null', 'w');
    if (reopened !== fd) closeSync(reopened);
  }
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function flush(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}
