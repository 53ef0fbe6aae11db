import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { DEV_TENANT, devConfig } from './dev-config.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-dev-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** An operator's production config: its own tenants, trust, Redis, upstream and directories. */
const PRODUCTION = {
  orchestratorId: 'prod',
  redis: { url: 'redis://10.0.0.5:6379' },
  upstream: { address: 'classtop.school.example:443' },
  runtimeDir: '/run/prod',
  stateDir: '/var/lib/prod',
  shmDir: '/dev/shm/prod',
  admin: { listen: '0.0.0.0:7070' },
  images: { node: 'registry.example/node@sha256:1', python: 'registry.example/python@sha256:2' },
  limits: { maxMemoryMb: 256 },
  tenants: [
    { id: 'dev', trust: { allowUnsigned: false, roots: ['root.pem'] }, plugins: ['plugins/prod'] },
    { id: 'school-a', plugins: ['plugins/a'] },
  ],
};

describe('the config of a dev session', () => {
  it('takes only the sandbox profile from a production config: never its tenants, trust, Redis, host or directories', () => {
    const lentFrom = path.join(scratch, 'production.yaml');
    writeFileSync(lentFrom, stringify(PRODUCTION));
    const root = mkdtempSync(path.join(scratch, 'session-'));
    const hostile = {
      CLASSTOP_REDIS_URL: 'redis://10.0.0.5:6379',
      CLASSTOP_UPSTREAM: 'classtop.school.example:443',
      CLASSTOP_ORCHESTRATOR_ID: 'prod',
      CLASSTOP_STATE_DIR: '/var/lib/prod',
      CLASSTOP_ADMIN_LISTEN: '0.0.0.0:7070',
    };
    const config = devConfig({ lentFrom, root, plugin: '/src/p', adminListen: '127.0.0.1:0', env: hostile });

    assert.deepEqual(
      config.tenants.map((t) => [t.id, t.plugins, t.trust.allowUnsigned, t.trust.roots]),
      [[DEV_TENANT, ['/src/p'], true, []]],
    );
    assert.deepEqual(config.tenants[0]?.privilegedPermissions, [], 'no privileged permission');
    assert.equal(config.redis.url, undefined, 'the session starts its own Redis');
    assert.equal(config.upstream.address, 'builtin');
    assert.match(config.orchestratorId, /^dev-[0-9a-f]{8}$/);
    assert.equal(config.admin.listen, '127.0.0.1:0');
    for (const dir of [config.runtimeDir, config.stateDir, config.auditLog]) assert.ok(dir.startsWith(root), dir);
    assert.equal(config.shmDir, `/dev/shm/classtop-${config.orchestratorId}`);
    assert.deepEqual(
      config.images,
      { ...PRODUCTION.images, cpp: 'classtop/sandbox-cpp:latest' },
      'the sandbox profile is borrowed (cpp by default)',
    );
    assert.equal(config.limits.maxMemoryMb, 256);
  });

  it('without a config: embedded defaults, the same single dev tenant', () => {
    const root = mkdtempSync(path.join(scratch, 'session-'));
    const config = devConfig({ lentFrom: undefined, root, plugin: '/src/p', adminListen: '127.0.0.1:0', env: {} });
    assert.deepEqual(
      config.tenants.map((t) => t.id),
      [DEV_TENANT],
    );
    assert.equal(config.images.python, 'classtop/sandbox-python:latest');
  });
});
