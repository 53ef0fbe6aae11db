import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { asSandboxError, ERROR_CODES, SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { LIFECYCLE_ACTIONS, type LifecycleAction } from '../lifecycle/index.ts';
import type { Orchestrator } from '../orchestrator/index.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const CALL_DEADLINE_MS = 30_000;
const ACTIONS = new Set<string>(LIFECYCLE_ACTIONS);

type Route = (match: RegExpExecArray, request: IncomingMessage) => Promise<unknown>;

/**
 * The admin HTTP API, on loopback by default:
 *   GET  /v1/plugins                                   every plugin instance, as JSON
 *   GET  /v1/plugins/{tenant}/{id}                      one
 *   POST /v1/plugins/{tenant}/{id}/functions/{name}     call a function the plugin exports (JSON body)
 *   POST /v1/plugins/{tenant}/{id}/{action}             submit a lifecycle job (enable, disable, reload,
 *                                                       restart, uninstall; reload takes {"bundle": PATH})
 *   GET  /v1/jobs, GET /v1/jobs/{id}                    lifecycle jobs, with progress
 *   GET  /v1/plugins/{tenant}/{id}/shm/{name}           a shared-memory region the plugin announced (bytes)
 *   GET  /metrics                                       Prometheus metrics
 *   GET  /healthz
 * Errors: `{ "error": { "code": PluginErrorCode, "message": … } }` with the registry's HTTP status.
 */
export class AdminServer {
  private readonly server: Server;
  private readonly log: Logger;
  private readonly routes: Array<[method: string, pattern: RegExp, route: Route]>;

  constructor(orchestrator: Orchestrator, log: Logger) {
    this.log = log.child({ component: 'admin' });
    this.routes = [
      ['GET', /^\/healthz$/, async () => ({ ok: true })],
      ['GET', /^\/v1\/plugins$/, async () => orchestrator.list()],
      ['GET', /^\/v1\/plugins\/([^/]+)\/([^/]+)$/, async (m) => orchestrator.find(decode(m[1]), decode(m[2])).status()],
      [
        'POST',
        /^\/v1\/plugins\/([^/]+)\/([^/]+)\/functions\/([^/]+)$/,
        async (m, request) => {
          const result = await orchestrator
            .find(decode(m[1]), decode(m[2]))
            .callFunction(decode(m[3]), await readBody(request), Date.now() + CALL_DEADLINE_MS);
          return JSON.parse(result.toString('utf8') || 'null') as unknown;
        },
      ],
      [
        'POST',
        /^\/v1\/plugins\/([^/]+)\/([^/]+)\/([a-z]+)$/,
        async (m, request) => {
          const action = decode(m[3]);
          if (!ACTIONS.has(action))
            throw new SandboxError('NOT_FOUND', `no action '${action}'; use ${LIFECYCLE_ACTIONS.join(', ')}`);
          const body = await readBody(request);
          const bundle =
            body.length > 0 ? (JSON.parse(body.toString('utf8')) as { bundle?: unknown }).bundle : undefined;
          if (bundle !== undefined && typeof bundle !== 'string')
            throw new SandboxError('INVALID_REQUEST', 'bundle must be a path');
          const jobId = await orchestrator.submit({
            action: action as LifecycleAction,
            tenant: decode(m[1]),
            pluginId: decode(m[2]),
            cause: 'admin API',
            ...(bundle ? { bundle } : {}),
          });
          return { jobId };
        },
      ],
      ['GET', /^\/v1\/jobs$/, async () => orchestrator.jobs()],
      [
        'GET',
        /^\/v1\/jobs\/([^/]+)$/,
        async (m) => {
          const job = await orchestrator.job(decode(m[1]));
          if (!job) throw new SandboxError('NOT_FOUND', `no job '${decode(m[1])}'`);
          return job;
        },
      ],
    ];
    this.server = createServer((request, response) => {
      if (request.method === 'GET' && request.url === '/metrics') return void this.metrics(orchestrator, response);
      const shm = /^\/v1\/plugins\/([^/]+)\/([^/]+)\/shm\/([^/]+)$/.exec(request.url ?? '');
      if (request.method === 'GET' && shm) return void this.sharedMemory(orchestrator, shm, response);
      return void this.handle(request, response);
    });
  }

  /** Listens on `HOST:PORT`; returns the bound port (useful with port 0). */
  listen(listen: string): Promise<number> {
    const separator = listen.lastIndexOf(':');
    const host = listen.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(listen.slice(separator + 1));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        this.log.info({ host, port: bound }, 'admin API listening');
        resolve(bound);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** The bytes of a shared-memory region a plugin announced, as application/octet-stream. */
  private async sharedMemory(orchestrator: Orchestrator, m: RegExpExecArray, response: ServerResponse): Promise<void> {
    try {
      const bytes = await orchestrator.find(decode(m[1]), decode(m[2])).readSharedMemory(decode(m[3]));
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      response.end(bytes);
    } catch (err) {
      const failure = asSandboxError(err, 'shared memory read failed');
      send(response, ERROR_CODES[failure.code].http, { error: { code: failure.code, message: failure.message } });
    }
  }

  private async metrics(orchestrator: Orchestrator, response: ServerResponse): Promise<void> {
    try {
      const text = await orchestrator.metrics.registry.metrics();
      response.writeHead(200, { 'content-type': orchestrator.metrics.registry.contentType });
      response.end(text);
    } catch (err) {
      this.log.error({ err }, 'metrics failed');
      send(response, 500, { error: { code: 'INTERNAL_ERROR', message: 'metrics failed' } });
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://admin');
    try {
      const found = this.routes.find(([method, pattern]) => method === request.method && pattern.test(url.pathname));
      if (!found) throw new SandboxError('NOT_FOUND', `no route ${request.method} ${url.pathname}`);
      const [, pattern, route] = found;
      send(response, 200, await route(pattern.exec(url.pathname) as RegExpExecArray, request));
    } catch (err) {
      const failure = asSandboxError(err, `${request.method} ${url.pathname} failed`);
      if (failure.code === 'INTERNAL_ERROR') this.log.error({ err }, 'admin request failed');
      send(response, ERROR_CODES[failure.code].http, { error: { code: failure.code, message: failure.message } });
    }
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function decode(part: string | undefined): string {
  return decodeURIComponent(part ?? '');
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SandboxError('INVALID_REQUEST', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  if (body.length > 0) {
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      throw new SandboxError('INVALID_REQUEST', 'request body is not valid JSON');
    }
  }
  return body;
}
