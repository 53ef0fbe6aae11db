#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { SandboxError } from '../errors/index.ts';
import { buildCommand, initCommand } from './authoring-commands.ts';
import { devCommand } from './dev-command.ts';
import { lifecycleCommand } from './lifecycle-commands.ts';
import { adminRequest, statusCommand } from './status-command.ts';
import { caInit, certIssue, certRevoke, crlUpdate, pack, sign, verifySignature } from './trust-commands.ts';
import { upCommand } from './up-command.ts';
import { validateCommand } from './validate-command.ts';
import { verifyCommand } from './verify-command.ts';

const USAGE = `Usage: classtop-sandbox <command> [options]

Running:
  up [--config FILE]                   run the orchestrator in the foreground (embedded defaults without a file)
  status [--json] [--admin HOST:PORT]  list the plugins a running orchestrator hosts
  call TENANT/PLUGIN FUNCTION [JSON]   call a function a running plugin exports [--admin HOST:PORT]
  enable|disable|restart|uninstall TENANT/PLUGIN
  reload TENANT/PLUGIN [--bundle DIR|FILE.ctp]
                                       a lifecycle job, with its progress [--admin HOST:PORT] [--no-wait]

Plugin authors:
  init DIR [--language python|cpp|node] [--id ID] [--name NAME]
                                       scaffold a plugin (plugin.yaml in appendix B's form, code, README)
  build DIR [--image IMAGE]            compile a C++ plugin's build/plugin.so in the builder image (no network)
  dev DIR [--admin HOST:PORT] [--config FILE]
                                       run a plugin UNSIGNED on an embedded host (development only); reload on save
  validate DIR [--config FILE]         check a plugin directory's plugin.yaml
  sign DIR --key KEY --cert CERT       sign every file of a plugin with a developer certificate
  verify-signature DIR [--trust ROOT.pem]... [--crl CRL]...
                                       check a signed plugin offline, as the orchestrator would
  pack DIR --out FILE.ctp              one signed archive the orchestrator can run
  verify DIR|FILE.ctp [--trust ROOT.pem]... [--crl CRL]... [--config FILE] [--json] [--junit FILE]
         [--sarif FILE] [--strict]     static checks, then a run under the production sandbox (CI);
                                       exit 0 passed, 1 failed, 3 not run (no Docker engine)

Certificate authorities (operators, tenants):
  ca init --dir DIR [--name NAME] [--intermediate] [--algorithm ecdsa|rsa] [--days N] [--crl-days N]
  cert issue --ca DIR --out DIR --name NAME --plugin-id ID[,ID|PREFIX.*] [--permissions P,…]
             [--privileged P,…] [--issuer root|intermediate] [--algorithm ecdsa|rsa] [--days N]
  cert revoke --ca DIR --serial HEX [--issuer root|intermediate] [--crl-days N]
  crl update --ca DIR [--crl-days N]

Environment: CLASSTOP_REDIS_URL, CLASSTOP_ADMIN_LISTEN, CLASSTOP_LOG_LEVEL, CLASSTOP_UPSTREAM,
CLASSTOP_RUNTIME_DIR, CLASSTOP_SHM_DIR, CLASSTOP_STATE_DIR, CLASSTOP_DOCKER_SOCKET,
CLASSTOP_SESSION_SECRET override the config file.
`;

const DEFAULT_ADMIN = process.env.CLASSTOP_ADMIN_LISTEN ?? '127.0.0.1:7070';

class UsageError extends Error {}
function usage(message: string): UsageError {
  return new UsageError(`${message}\n\n${USAGE}`);
}

function runningOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      admin: { type: 'string', default: DEFAULT_ADMIN },
    },
  });
}

const COMMANDS: Record<string, (args: string[]) => Promise<void> | void> = {
  up: (args) => upCommand(runningOptions(args).values.config),
  status: (args) => {
    const { values } = runningOptions(args);
    return statusCommand(values.admin, values.json ?? false);
  },
  validate: (args) => {
    const { values, positionals } = runningOptions(args);
    if (!positionals[0]) throw usage('validate needs a plugin directory');
    validateCommand(positionals[0], values.config);
  },
  call: async (args) => {
    const { values, positionals } = runningOptions(args);
    const [target, fn, body] = positionals;
    const [tenant, plugin] = target?.split('/') ?? [];
    if (!tenant || !plugin || !fn) throw usage('call needs TENANT/PLUGIN and FUNCTION');
    const path = `/v1/plugins/${encodeURIComponent(tenant)}/${encodeURIComponent(plugin)}/functions/${encodeURIComponent(fn)}`;
    process.stdout.write(`${JSON.stringify(await adminRequest(values.admin, 'POST', path, body ?? '{}'), null, 2)}\n`);
  },
  enable: (args) => lifecycleCommand('enable', args, DEFAULT_ADMIN),
  disable: (args) => lifecycleCommand('disable', args, DEFAULT_ADMIN),
  reload: (args) => lifecycleCommand('reload', args, DEFAULT_ADMIN),
  restart: (args) => lifecycleCommand('restart', args, DEFAULT_ADMIN),
  uninstall: (args) => lifecycleCommand('uninstall', args, DEFAULT_ADMIN),
  init: initCommand,
  build: buildCommand,
  dev: devCommand,
  sign,
  'verify-signature': verifySignature,
  pack,
  verify: (args) => {
    if (!args.some((a) => !a.startsWith('-'))) throw usage('verify needs a plugin directory or a .ctp file');
    return verifyCommand(args);
  },
  'ca init': caInit,
  'cert issue': certIssue,
  'cert revoke': certRevoke,
  'crl update': crlUpdate,
};

async function main(argv: string[]): Promise<void> {
  const [first, second, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const twoWords = `${first} ${second ?? ''}`;
  if (COMMANDS[twoWords]) return COMMANDS[twoWords](rest);
  const command = COMMANDS[first];
  if (!command || ['ca', 'cert', 'crl'].includes(first))
    throw usage(`unknown command '${second && ['ca', 'cert', 'crl'].includes(first) ? twoWords : first}'`);
  return command(argv.slice(1));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known = err instanceof SandboxError || err instanceof UsageError;
  const parseError = err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const message = known || parseError ? (err as Error).message : String((err as Error)?.stack ?? err);
  process.stderr.write(`classtop-sandbox: ${message}\n`);
  process.exit(err instanceof UsageError || parseError ? 2 : 1);
});
