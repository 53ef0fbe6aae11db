import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SandboxError } from '../errors/index.ts';
import { createLogger } from '../logging/index.ts';
import {
  exitCodeOf,
  jsonReport,
  junitReport,
  openTarget,
  progressLine,
  runDynamicChecks,
  runStaticChecks,
  sarifReport,
  terminalSummary,
  type VerifyReport,
} from '../verify/index.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** 128 + the signal's number, as a shell reports a process the signal ended. */
const EXIT_SIGNALLED: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** The orchestrator's log during the run: silent unless CLASSTOP_LOG_LEVEL asks, on stderr (stdout is the report's). */
function verifyLogger() {
  return createLogger({ level: process.env.CLASSTOP_LOG_LEVEL ?? 'silent', fd: 2 });
}

/** This build's version, for SARIF's tool.driver (dist/src/cli → the package root). */
function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * `classtop-sandbox verify DIR|FILE.ctp [--trust ROOT.pem]… [--crl CRL]… [--config FILE] [--json]
 * [--junit FILE] [--sarif FILE] [--strict]`: the static checks, then the plugin run under the
 * production profile; sets the exit status (VERIFY_EXIT).
 */
export async function verifyCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      trust: { type: 'string', multiple: true },
      crl: { type: 'string', multiple: true },
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      junit: { type: 'string' },
      sarif: { type: 'string' },
      strict: { type: 'boolean', default: false },
    },
  });
  const source = positionals[0];
  if (!source) throw new SandboxError('INVALID_REQUEST', 'verify needs a plugin directory or a .ctp file');
  const target = await openTarget({
    source,
    trust: values.trust ?? [],
    crls: values.crl ?? [],
    configFile: values.config,
  });
  // Ctrl-C or SIGTERM: the run removes its container, sockets, shm and Redis, then the process exits.
  const stop = new AbortController();
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    if (stop.signal.aborted) return;
    process.stderr.write(`classtop-sandbox verify: ${signal}: stopping the plugin and removing what the run made\n`);
    process.exitCode = EXIT_SIGNALLED[signal];
    stop.abort();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    const progress = (line: string) => process.stderr.write(line);
    progress(`verifying ${source} for tenant '${target.tenant.id}'\nstatic checks:\n`);
    const log = verifyLogger();
    const found = await runStaticChecks(target, (r) => progress(progressLine(r)), log);
    progress('running the plugin under the production profile:\n');
    const dynamic = await runDynamicChecks(target, found, {
      log,
      onResult: (r) => progress(progressLine(r)),
      onRun: (id, dir) => progress(`  (orchestrator ${id}, files in ${dir})\n`),
      signal: stop.signal,
    });
    if (stop.signal.aborted) return;
    const report: VerifyReport = {
      source,
      root: target.root,
      plugin: found.manifest ? { id: found.manifest.id, version: found.manifest.version } : null,
      checks: [...found.checks, ...dynamic.checks],
      engine: dynamic.engine,
    };
    const exitCode = exitCodeOf(report, values.strict);
    if (values.junit) writeFileSync(values.junit, junitReport(report, values.strict));
    if (values.sarif) writeFileSync(values.sarif, sarifReport(report, toolVersion()));
    process.stdout.write(values.json ? jsonReport(report, exitCode) : terminalSummary(report, exitCode));
    process.exitCode = exitCode;
  } finally {
    target.close();
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
