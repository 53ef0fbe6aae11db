import path from 'node:path';
import { isatty } from 'node:tty';
import { parseArgs } from 'node:util';
import { DEFAULT_CPP_BUILDER_IMAGE } from '../authoring/index.ts';
import { DEV_TENANT, DevSession } from '../dev/index.ts';
import { SandboxError } from '../errors/index.ts';
import { detachFromTerminal, flush, shutdown } from './up-command.ts';

/** Port 0: the system picks a free one, printed at start; `--admin` fixes it. */
const DEFAULT_DEV_ADMIN = '127.0.0.1:0';
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

const BANNER = `classtop-sandbox dev: DEVELOPMENT ONLY. The plugin runs UNSIGNED, in tenant '${DEV_TENANT}' (the only tenant that allows unsigned plugins, made by this command alone), against an embedded host with throw-away data. Never use this to run plugins for users: sign them and run \`classtop-sandbox up\`.\n`;

/**
 * `classtop-sandbox dev DIR [--admin HOST:PORT] [--config FILE] [--image BUILDER]`: runs one plugin
 * in its real hardened container on an embedded host, streams its logs readably on stdout, and
 * hot-reloads it with its state on every save until Ctrl-C or SIGTERM, which remove everything.
 */
export async function devCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      admin: { type: 'string', default: DEFAULT_DEV_ADMIN },
      config: { type: 'string', short: 'c' },
      image: { type: 'string' },
    },
  });
  const directory = positionals[0];
  if (!directory) throw new SandboxError('INVALID_REQUEST', 'dev needs the plugin directory');
  process.stderr.write(BANNER);
  const session = await DevSession.open({
    directory: path.resolve(directory),
    lentFrom: values.config,
    adminListen: values.admin ?? DEFAULT_DEV_ADMIN,
    builderImage: values.image ?? DEFAULT_CPP_BUILDER_IMAGE,
    logs: process.stdout,
    messages: process.stderr,
  });
  let applying: Promise<void> | undefined;
  let pending: Set<string> | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (signal: string): Promise<number> => {
    stopping ??= (async () => {
      session.interrupt();
      const { config, log, admin, orchestrator } = session;
      const code = await shutdown(signal, { config, log, admin, orchestrator, stopRedis: () => session.stopRedis() });
      await applying?.catch(() => undefined);
      session.removeFiles();
      await flush(log);
      return code;
    })();
    return stopping;
  };
  const onTerminal = [1, 2].filter((fd) => isatty(fd));
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => {
      if (signal === 'SIGHUP') detachFromTerminal(onTerminal);
      if (stopping) process.stderr.write(`classtop-sandbox dev: already stopping (${signal} ignored)\n`);
      void stop(signal).then((code) => process.exit(code));
    });
  }

  // One reload at a time; saves during one are taken together right after it.
  const onSave = (files: string[]) => {
    if (applying) {
      pending = new Set([...(pending ?? []), ...files]);
      return;
    }
    applying = (async () => {
      for (let next: string[] | undefined = files; next && !stopping;) {
        await session.apply(next);
        next = pending && [...pending];
        pending = undefined;
      }
      applying = undefined;
    })();
  };

  let port: number;
  try {
    port = await session.start();
  } catch (err) {
    await stop('start-up failure');
    throw err;
  }
  if (stopping) return;
  session.watch(onSave, (err) =>
    process.stderr.write(`classtop-sandbox dev: ERROR: watching ${directory} failed: ${err.message}\n`),
  );
  const { listen } = session.config.admin;
  const admin = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
  process.stderr.write(
    `classtop-sandbox dev: admin API on http://${admin}; try\n` +
      `  classtop-sandbox call ${DEV_TENANT}/${session.pluginId} FUNCTION '{}' --admin ${admin}\n` +
      `classtop-sandbox dev: watching ${directory}; save a file to reload it with its state; Ctrl-C stops.\n`,
  );
}
