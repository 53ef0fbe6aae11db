import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { HostServer } from '../../src/host/index.ts';
import { EmbeddedRedis, redisKeys } from '../../src/redis/index.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';
import { EXAMPLES, startTestOrchestrator, testLogger, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const HELLO = 'com.example.hello-world';

describe("a tenant's own upstream host, over mutual TLS", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-upstream-'));
  let externalRedis: EmbeddedRedis;
  let external: Redis;
  let host: HostServer;
  let t: TestOrchestrator;

  before(async () => {
    const pki = new OpensslPki(path.join(scratch, 'pki'));
    const ca = pki.rootCa('Host CA');
    const server = pki.issue(ca, 'localhost', [
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = DNS:localhost,IP:127.0.0.1',
    ]);
    const client = pki.issue(ca, 'gateway', ['keyUsage = critical,digitalSignature', 'extendedKeyUsage = clientAuth']);

    externalRedis = await EmbeddedRedis.start();
    external = new Redis({ path: externalRedis.socketPath });
    host = new HostServer(external, testLogger());
    const port = await host.listen('127.0.0.1:0', {
      cert: readFileSync(server.cert),
      key: readFileSync(server.key),
      clientCa: readFileSync(ca.cert),
    });
    const address = `127.0.0.1:${port}`;
    t = await startTestOrchestrator([
      { id: 'school-a', plugins: [path.join(EXAMPLES, 'hello-world')] },
      {
        id: 'school-x',
        upstream: { address, tls: { ca: ca.cert, cert: client.cert, key: client.key, serverName: 'localhost' } },
        plugins: [path.join(EXAMPLES, 'hello-world')],
      },
      {
        id: 'school-y',
        upstream: { address, tls: { ca: ca.cert, serverName: 'localhost' } },
        plugins: [path.join(EXAMPLES, 'hello-world')],
      },
    ]);
  });

  after(async () => {
    await t?.stop();
    await host?.close();
    external?.disconnect();
    await externalRedis?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("sends a tenant's calls to its own host, and the others' to the built-in one", async () => {
    assert.equal(t.status('school-x', HELLO).state, 'ENABLED', t.status('school-x', HELLO).lastError ?? '');
    const names = async (redis: Redis, tenant: string) =>
      (await redis.hvals(redisKeys.courses(tenant))).map((json) => (JSON.parse(json) as { name: string }).name);
    assert.deepEqual(await names(external, 'school-x'), ['Hello World 101'], "school-x's course is in its own host");
    assert.deepEqual(await names(t.redis, 'school-x'), [], 'and not in the built-in one');
    assert.deepEqual(await names(t.redis, 'school-a'), ['Hello World 101']);
    assert.deepEqual(await names(external, 'school-a'), []);
  });

  it('a gateway without a client certificate is refused by a host that requires one', () => {
    const status = t.status('school-y', HELLO);
    assert.equal(status.state, 'ERROR');
    assert.match(status.lastError ?? '', /get_courses/);
  });
});
