import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { loadConfig } from './load-config.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function file(yaml: string): string {
  const name = path.join(scratch, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(name, yaml);
  return name;
}

describe('loadConfig', () => {
  it('has embedded defaults: no Redis URL, loopback admin, built-in host, safe limits', () => {
    const config = loadConfig(undefined, {});
    assert.equal(config.redis.url, undefined);
    assert.equal(config.admin.listen, '127.0.0.1:7070');
    assert.equal(config.upstream.address, 'builtin');
    assert.equal(config.sandboxUid, 10001);
    assert.equal(config.limits.allowWritablePaths, false);
    assert.equal(config.sessionSecret.length, 32);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.limits));
  });

  it('resolves plugin directories against the config file and gives tenants all ordinary permissions by default', () => {
    const config = loadConfig(file('tenants:\n  - id: school-a\n    plugins: [plugins/x]\n'), {});
    assert.equal(config.tenants[0]?.plugins[0], path.join(scratch, 'plugins/x'));
    assert.ok(config.tenants[0]?.permissions.includes('modify:schedules'));
    assert.deepEqual(config.tenants[0]?.privilegedPermissions, []);
  });

  it('lets the environment override the file', () => {
    const config = loadConfig(file('redis:\n  url: redis://127.0.0.1:1\nadmin:\n  listen: 127.0.0.1:1\n'), {
      CLASSTOP_REDIS_URL: 'redis://127.0.0.1:6379',
      CLASSTOP_ADMIN_LISTEN: '127.0.0.1:9090',
      CLASSTOP_SESSION_SECRET: 'x'.repeat(32),
    });
    assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(config.admin.listen, '127.0.0.1:9090');
    assert.equal(config.sessionSecret.toString(), 'x'.repeat(32));
  });

  it('names every invalid field, a duplicate tenant, and a short secret', () => {
    assert.throws(
      () => loadConfig(file('sandboxUser: "0:0"\ntenants:\n  - id: School A\n'), {}),
      (err: unknown) =>
        err instanceof SandboxError &&
        /sandboxUser: must be UID:GID, both non-zero/.test(err.message) &&
        /tenants\.0\.id: must be 1-31 lowercase/.test(err.message),
    );
    assert.throws(() => loadConfig(file('tenants:\n  - id: a\n  - id: a\n'), {}), /tenant 'a' is listed twice/);
    assert.throws(() => loadConfig(undefined, { CLASSTOP_SESSION_SECRET: 'short' }), /at least 32 bytes/);
    assert.throws(() => loadConfig(path.join(scratch, 'nope.yaml'), {}), /nope\.yaml cannot be read/);
  });
});
