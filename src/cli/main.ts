#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { SandboxError } from '../errors/index.ts';
import { adminRequest, statusCommand } from './status-command.ts';
import { upCommand } from './up-command.ts';
import { validateCommand } from './validate-command.ts';

const USAGE = `Usage: classtop-sandbox <command> [options]

Commands:
  up [--config FILE]                   run the orchestrator in the foreground (embedded defaults without a file)
  status [--json] [--admin HOST:PORT]  list the plugins a running orchestrator hosts
  validate DIR [--config FILE]         check a plugin directory's plugin.yaml
  call TENANT/PLUGIN FUNCTION [JSON]   call a function a running plugin exports

Environment: CLASSTOP_REDIS_URL, CLASSTOP_ADMIN_LISTEN, CLASSTOP_LOG_LEVEL, CLASSTOP_UPSTREAM,
CLASSTOP_RUNTIME_DIR, CLASSTOP_SHM_DIR, CLASSTOP_STATE_DIR, CLASSTOP_SESSION_SECRET override the config file.
`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      admin: { type: 'string', default: process.env.CLASSTOP_ADMIN_LISTEN ?? '127.0.0.1:7070' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'up':
      return upCommand(values.config);
    case 'status':
      return statusCommand(values.admin, values.json ?? false);
    case 'validate':
      if (!rest[0]) throw usage('validate needs a plugin directory');
      return validateCommand(rest[0], values.config);
    case 'call': {
      const [target, fn, body] = rest;
      const [tenant, plugin] = target?.split('/') ?? [];
      if (!tenant || !plugin || !fn) throw usage('call needs TENANT/PLUGIN and FUNCTION');
      const path = `/v1/plugins/${encodeURIComponent(tenant)}/${encodeURIComponent(plugin)}/functions/${encodeURIComponent(fn)}`;
      process.stdout.write(
        `${JSON.stringify(await adminRequest(values.admin, 'POST', path, body ?? '{}'), null, 2)}\n`,
      );
      return;
    }
    default:
      throw usage(`unknown command '${command}'`);
  }
}

class UsageError extends Error {}
function usage(message: string): UsageError {
  return new UsageError(`${message}\n\n${USAGE}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message =
    err instanceof SandboxError || err instanceof UsageError ? err.message : String((err as Error)?.stack ?? err);
  process.stderr.write(`classtop-sandbox: ${message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
