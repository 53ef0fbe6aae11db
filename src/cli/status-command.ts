import { SandboxError } from '../errors/index.ts';
import type { PluginStatus } from '../orchestrator/index.ts';

/** `classtop-sandbox status [--json] [--admin HOST:PORT]`: the plugins a running orchestrator hosts. */
export async function statusCommand(admin: string, json: boolean): Promise<void> {
  const plugins = (await adminRequest(admin, 'GET', '/v1/plugins')) as PluginStatus[];
  if (json) {
    process.stdout.write(`${JSON.stringify(plugins, null, 2)}\n`);
    return;
  }
  const rows = plugins.map((p) => [
    p.tenant,
    p.id,
    p.version ?? '-',
    p.state,
    p.containerId?.slice(0, 12) ?? '-',
    p.signer ? p.signer.subject : p.state === 'ERROR' ? '-' : 'unsigned',
    p.sdkProtocolVersion ?? '-',
    firstLine(p.lastError),
  ]);
  const header = ['TENANT', 'PLUGIN', 'VERSION', 'STATE', 'CONTAINER', 'SIGNED BY', 'SDK PROTOCOL', 'LAST ERROR'];
  process.stdout.write(table(header, rows));
}

/** One admin API request; errors come back as SandboxError with the API's code and message. */
export async function adminRequest(admin: string, method: string, path: string, body?: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`http://${admin}${path}`, {
      method,
      body: body ?? null,
      headers: { 'content-type': 'application/json' },
    });
  } catch (err) {
    throw new SandboxError(
      'NOT_FOUND',
      `no orchestrator answers at http://${admin}; start one with \`classtop-sandbox up\``,
      { cause: err },
    );
  }
  const parsed = (await response.json()) as { error?: { code: string; message: string } };
  if (!response.ok) {
    throw new SandboxError(
      'INTERNAL_ERROR',
      `${parsed.error?.code ?? response.status}: ${parsed.error?.message ?? 'request failed'}`,
    );
  }
  return parsed;
}

function firstLine(text: string | null): string {
  return text ? (text.split('\n')[0] ?? '') : '';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
