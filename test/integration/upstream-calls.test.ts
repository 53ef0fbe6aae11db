import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials, status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import { SandboxError } from '../../src/errors/index.ts';
import { UpstreamHost } from '../../src/upstream/index.ts';
import { loadProtocol, type HostCall, type HostResult, type PluginApiResponse } from '../../src/protocol/index.ts';
import { pollUntil } from '../helpers/poll.ts';

const POLL = { intervalMs: 10, maxPolls: 200 };

/**
 * An upstream host serving `Calls` on a real unix socket, whose behaviour each call's api_name
 * picks: `after-N` answers after N ms with its payload, `fail` answers with NOT_FOUND, `hang`
 * never answers, `drop` ends the whole stream with UNAVAILABLE.
 */
function scriptedHost() {
  const seen = { streams: 0, withdrawn: [] as number[], apis: new Map<number, string>() };
  const server = new Server();
  server.addService(loadProtocol().HostService.service, {
    Calls: (stream: ServerDuplexStream<HostCall, HostResult>) => {
      seen.streams++;
      stream.on('data', ({ id, request, cancel }: HostCall) => {
        if (cancel) return seen.withdrawn.push(id);
        const api = request?.api_name ?? '';
        seen.apis.set(id, api);
        const ok: PluginApiResponse = {
          success: true,
          error_message: '',
          result: request?.payload ?? Buffer.alloc(0),
          error_code: 'OK',
        };
        if (api.startsWith('after-')) setTimeout(() => stream.write({ id, response: ok }), Number(api.slice(6)));
        if (api === 'fail') {
          const response: PluginApiResponse = {
            ...ok,
            success: false,
            error_message: 'fail: no such course',
            error_code: 'NOT_FOUND',
          };
          stream.write({ id, response });
        }
        if (api === 'drop') stream.emit('error', { code: GrpcStatus.UNAVAILABLE, details: 'host restarting' });
        return undefined;
      });
    },
    Invoke: () => {},
    WatchEvents: () => {},
  });
  return { server, seen };
}

describe('UpstreamCalls: many calls on one stream to a real upstream', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-calls-'));
  const { server, seen } = scriptedHost();
  let upstream: UpstreamHost;

  const request = (api: string, payload = '') => ({
    tenant: 't',
    plugin_id: 'p',
    instance_id: 'i',
    api_name: api,
    payload: Buffer.from(payload),
  });

  before(async () => {
    const address = `unix://${path.join(scratch, 'host.sock')}`;
    await new Promise((resolve, reject) =>
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    upstream = new UpstreamHost(address);
  });

  after(() => {
    upstream.close();
    server.forceShutdown();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('matches answers that come back out of order to their calls, on one stream', async () => {
    const calls = upstream.openCalls();
    const streamsBefore = seen.streams;
    const finished: string[] = [];
    const slow = calls
      .invoke(request('after-80', 'slow'), Date.now() + 5_000)
      .then((r) => finished.push(`${r.result}`));
    const fast = calls.invoke(request('after-0', 'fast'), Date.now() + 5_000).then((r) => finished.push(`${r.result}`));
    await Promise.all([slow, fast]);
    assert.deepEqual(finished, ['fast', 'slow']);
    assert.equal(seen.streams - streamsBefore, 1, 'both calls shared one stream');
    calls.close();
  });

  it("turns the host's failure into its code and message", async () => {
    const calls = upstream.openCalls();
    const err = await calls.invoke(request('fail'), Date.now() + 5_000).catch((e: unknown) => e);
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.message, 'fail: no such course');
    calls.close();
  });

  it('ends an unanswered call with TIMEOUT at its deadline and tells the host to drop it', async () => {
    const calls = upstream.openCalls();
    const err = await calls.invoke(request('hang'), Date.now() + 100).catch((e: unknown) => e);
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /^hang: the host did not answer within \d+ ms$/);
    const hung = [...seen.apis].find(([, api]) => api === 'hang')?.[0];
    assert.ok(await pollUntil(() => seen.withdrawn.includes(hung ?? -1), Boolean, POLL), 'the host was told');
    calls.close();
  });

  it("withdraws a call when the plugin's own call is cancelled", async () => {
    const calls = upstream.openCalls();
    const plugin = new EventEmitter();
    const pending = calls.invoke(request('hang'), Date.now() + 60_000, plugin).catch((e: unknown) => e);
    const withdrawnBefore = seen.withdrawn.length;
    plugin.emit('cancelled');
    assert.equal(((await pending) as SandboxError).code, 'TIMEOUT');
    assert.ok(await pollUntil(() => seen.withdrawn.length > withdrawnBefore, Boolean, POLL), 'the host was told');
    assert.equal(plugin.listenerCount('cancelled'), 0, "no listener is left on the plugin's call");
    calls.close();
  });

  it('fails every waiting call when the stream is lost, and opens a new one for the next call', async () => {
    const calls = upstream.openCalls();
    const waiting = calls.invoke(request('hang'), Date.now() + 60_000).catch((e: unknown) => e);
    const dropping = calls.invoke(request('drop'), Date.now() + 60_000).catch((e: unknown) => e);
    for (const err of await Promise.all([waiting, dropping])) {
      assert.ok(err instanceof SandboxError);
      assert.equal(err.code, 'INTERNAL_ERROR');
      assert.match(err.message, /: upstream host unavailable: host restarting$/);
    }
    const streamsBefore = seen.streams;
    const again = await calls.invoke(request('after-0', 'back'), Date.now() + 5_000);
    assert.equal(`${again.result}`, 'back');
    assert.equal(seen.streams - streamsBefore, 1);
    calls.close();
  });

  it('fails a call at once when the channel to the host is closed', async () => {
    const closedHost = new UpstreamHost(`unix://${path.join(scratch, 'host.sock')}`);
    const calls = closedHost.openCalls();
    closedHost.close();
    const err = await calls.invoke(request('after-0'), Date.now() + 60_000).catch((e: unknown) => e);
    assert.ok(err instanceof SandboxError);
    assert.equal(err.code, 'INTERNAL_ERROR');
    assert.match(err.message, /^after-0: upstream host unavailable: /);
  });

  it('fails calls still waiting when closed, and refuses new ones', async () => {
    const calls = upstream.openCalls();
    const waiting = calls.invoke(request('hang'), Date.now() + 60_000).catch((e: unknown) => e);
    calls.close();
    assert.equal(((await waiting) as SandboxError).code, 'INTERNAL_ERROR');
    const refused = await calls.invoke(request('after-0'), Date.now() + 5_000).catch((e: unknown) => e);
    assert.match((refused as SandboxError).message, /^after-0: the gateway is closing$/);
  });
});
