import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AdminServer } from '../admin/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../logging/index.ts';
import { Orchestrator } from '../orchestrator/index.ts';
import { EmbeddedRedis } from '../redis/index.ts';

/**
 * `classtop-sandbox up [--config FILE]`: runs the orchestrator in the foreground until Ctrl-C or
 * SIGTERM, which disable every plugin and remove its container before the process exits.
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

  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await started.catch(() => undefined);
    await admin.close();
    await orchestrator.stop();
    await embedded?.stop();
    log.flush();
  };
  let shuttingDown: Promise<void> | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      shuttingDown ??= shutdown(signal).then(() => process.exit(0));
    });
  }

  try {
    await started;
    await admin.listen(config.admin.listen);
  } catch (err) {
    shuttingDown ??= shutdown('start-up failure');
    await shuttingDown;
    throw err;
  }
  const plugins = orchestrator.list();
  const enabled = plugins.filter((p) => p.state === 'ENABLED').length;
  process.stderr.write(
    `classtop-sandbox: ${enabled} of ${plugins.length} plugins enabled; admin API on http://${config.admin.listen}; ` +
      `\`classtop-sandbox status\` lists them; Ctrl-C stops.\n`,
  );
}
