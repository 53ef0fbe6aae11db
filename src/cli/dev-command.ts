import path from 'node:path';
import { isatty } from 'node:tty';
import { parseArgs } from 'node:util';
import { DEFAULT_CPP_BUILDER_IMAGE } from '../authoring/index.ts';
import { DEV_TENANT, DevSession, type DevOptions } from '../dev/index.ts';
import { SandboxError } from '../errors/index.ts';
import { detachFromTerminal, flush, shutdown } from './up-command.ts';

/** Port 0: the system picks a free one, printed at start; `--admin` fixes it. */
const DEFAULT_DEV_ADMIN = '127.0.0.1:0';
/** The admin API of a dev session runs unsigned code on request: it answers this machine only. */
const LOOPBACK_HOSTS = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

const BANNER = `classtop-sandbox dev: DEVELOPMENT ONLY. The plugin runs UNSIGNED, in tenant '${DEV_TENANT}' (the only tenant that allows unsigned plugins, made by this command alone), against an embedded host with throw-away data. Never use this to run plugins for users: sign them and run \`classtop-sandbox up\`.\n`;

function devOptions(args: string[]): DevOptions {
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
  const adminListen = values.admin ?? DEFAULT_DEV_ADMIN;
  if (!LOOPBACK_HOSTS.test(adminListen.slice(0, adminListen.lastIndexOf(':')))) {
    throw new SandboxError(
      'INVALID_REQUEST',
      `--admin ${adminListen}: a dev session's admin API runs unsigned plugins on request, so it listens on loopback only; use 127.0.0.1:PORT`,
    );
  }
  return {
    directory: path.resolve(directory),
    lentFrom: values.config,
    adminListen,
    builderImage: values.image ?? DEFAULT_CPP_BUILDER_IMAGE,
    logs: process.stdout,
    messages: process.stderr,
  };
}

/**
 * `classtop-sandbox dev DIR [--admin HOST:PORT] [--config FILE] [--image BUILDER]`: runs one plugin
 * in its real hardened container on an embedded host, streams its logs readably on stdout, and
 * hot-reloads it with its state on every save until Ctrl-C or SIGTERM, which remove everything
 * (containers, sockets, shm, Redis, the session's directory) and exit 0.
 */
export async function devCommand(args: string[]): Promise<void> {
  const options = devOptions(args);
  process.stderr.write(BANNER);
  const opening = new AbortController();
  let session: DevSession | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (signal: string, running: DevSession): Promise<number> => {
    stopping ??= stopSession(signal, running);
    return stopping;
  };
  const onTerminal = [1, 2].filter((fd) => isatty(fd));
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => {
      if (signal === 'SIGHUP') detachFromTerminal(onTerminal);
      if (!session) return opening.abort(); // during the first build: open() removes what it made
      if (stopping) process.stderr.write(`classtop-sandbox dev: already stopping (${signal} ignored)\n`);
      void stop(signal, session).then((code) => process.exit(code));
    });
  }

  try {
    session = await DevSession.open(options, opening.signal);
  } catch (err) {
    if (opening.signal.aborted) return;
    throw err;
  }
  if (opening.signal.aborted) return session.removeFiles(); // a signal while it was read: nothing runs yet
  let port: number | undefined;
  try {
    port = await session.start();
  } catch (err) {
    await stop('start-up failure', session);
    throw err;
  }
  if (port === undefined || stopping) return;
  session.watch();
  const { listen } = session.config.admin;
  const admin = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
  process.stderr.write(
    `classtop-sandbox dev: admin API on http://${admin}; try\n` +
      `  classtop-sandbox call ${DEV_TENANT}/${session.pluginId} FUNCTION '{}' --admin ${admin}\n` +
      `classtop-sandbox dev: watching ${options.directory}; save a file to reload it with its state; Ctrl-C stops.\n`,
  );
}

/** Stops watching, then what `up` stops (plugins in order, Redis last), then removes the session's files. */
async function stopSession(signal: string, session: DevSession): Promise<number> {
  session.interrupt();
  const { config, log, admin, orchestrator } = session;
  const code = await shutdown(signal, { config, log, admin, orchestrator, stopRedis: () => session.stopRedis() });
  await session.idle();
  session.removeFiles();
  await flush(log);
  return code;
}
