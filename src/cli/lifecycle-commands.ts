import { parseArgs } from 'node:util';
import path from 'node:path';
import { SandboxError } from '../errors/index.ts';
import type { JobView } from '../lifecycle/index.ts';
import { adminRequest } from './status-command.ts';

const POLL_MS = 200;
const MAX_WAIT_MS = 600_000;
const BAR_WIDTH = 30;

/**
 * `classtop-sandbox enable|disable|reload|restart|uninstall TENANT/PLUGIN [--bundle FILE]`:
 * submits the lifecycle job, shows its progress, and exits 0 when it completes, 1 when it fails.
 */
export async function lifecycleCommand(action: string, args: string[], defaultAdmin: string): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      bundle: { type: 'string' },
      admin: { type: 'string', default: defaultAdmin },
      'no-wait': { type: 'boolean' },
    },
  });
  const [tenant, plugin] = positionals[0]?.split('/') ?? [];
  if (!tenant || !plugin)
    throw new SandboxError('INVALID_REQUEST', `${action} needs TENANT/PLUGIN, e.g. school-a/com.example.hello-world`);
  if (values.bundle && action !== 'reload') throw new SandboxError('INVALID_REQUEST', '--bundle goes with reload');
  const body = values.bundle ? JSON.stringify({ bundle: path.resolve(values.bundle) }) : '{}';
  const target = `/v1/plugins/${encodeURIComponent(tenant)}/${encodeURIComponent(plugin)}/${action}`;
  const { jobId } = (await adminRequest(values.admin, 'POST', target, body)) as { jobId: string };
  process.stderr.write(`${action} ${tenant}/${plugin}: job ${jobId}\n`);
  if (values['no-wait']) return;

  const started = Date.now();
  let job: JobView;
  do {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = (await adminRequest(values.admin, 'GET', `/v1/jobs/${jobId}`)) as JobView;
    if (process.stderr.isTTY) process.stderr.write(`\r${bar(job)}`);
  } while (!['completed', 'failed'].includes(job.state) && Date.now() - started < MAX_WAIT_MS);
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${bar(job)}\n`);
  if (job.state !== 'completed') {
    throw new SandboxError(
      'INTERNAL_ERROR',
      `${action} ${tenant}/${plugin} ${job.state}: ${job.failedReason ?? 'no reason given'}`,
    );
  }
  process.stdout.write(`${action} ${tenant}/${plugin}: done\n`);
}

function bar(job: JobView): string {
  const percent = job.progress?.percent ?? 0;
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  const step = job.progress?.step ?? job.state;
  const attempt = job.attemptsMade > 0 && job.state !== 'completed' ? ` (attempt ${job.attemptsMade + 1})` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${step}${attempt}`;
}
