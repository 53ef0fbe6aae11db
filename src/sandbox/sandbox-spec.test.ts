import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { PluginManifest } from '../manifest/index.ts';
import { LABELS } from './labels.ts';
import { buildSandboxSpec, type SandboxSpecInput } from './sandbox-spec.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-spec-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
for (const dir of ['plugin/data', 'sockets', 'shm']) mkdirSync(path.join(scratch, dir), { recursive: true });

const manifest: PluginManifest = {
  id: 'com.example.p',
  name: 'P',
  version: '1.2.3',
  runtime: 'node',
  directory: path.join(scratch, 'plugin'),
  entry: 'index.js',
  permissions: ['read:courses'],
  privilegedPermissions: [],
  ipcTimeoutMs: 30_000,
  certificate: { path: 'plugin.crt', fingerprint: null },
  dependencies: { classtopVersion: null, pythonPackages: [] },
  sandbox: {
    memoryMb: 64,
    cpus: 0.5,
    pids: 32,
    shmMb: 8,
    tmpMb: 4,
    paths: [{ relative: 'data', hostPath: path.join(scratch, 'plugin/data'), readOnly: false }],
  },
};

function input(overrides: Partial<SandboxSpecInput> = {}): SandboxSpecInput {
  return {
    orchestratorId: 'o1',
    tenant: 'school-a',
    instanceId: 'abc123',
    manifest,
    imageId: 'sha256:feed',
    uid: 10001,
    gid: 10001,
    socketDir: path.join(scratch, 'sockets'),
    shmDir: path.join(scratch, 'shm'),
    limits: { nofile: 1024, nproc: 4096, logMaxBytes: 1_048_576 },
    ociRuntime: undefined,
    ...overrides,
  };
}

describe('buildSandboxSpec', () => {
  it('sets limits from the manifest and the operator, pins the image, runs as the sandbox user', () => {
    const spec = buildSandboxSpec(input());
    assert.equal(spec.image, 'sha256:feed');
    assert.equal(spec.user, '10001:10001');
    assert.equal(spec.memoryBytes, 64 * 1024 * 1024);
    assert.equal(spec.nanoCpus, 500_000_000);
    assert.equal(spec.pidsLimit, 32);
    assert.equal(spec.tmpBytes, 4 * 1024 * 1024);
    assert.equal(spec.nofile, 1024);
    assert.equal(spec.name, 'classtop-o1-school-a-com-example-p-abc123');
  });

  it('mounts only the plugin (read-only), its sockets, its shm, and its whitelisted paths', () => {
    const spec = buildSandboxSpec(input());
    assert.deepEqual(
      spec.mounts.map((m) => [m.target, m.readOnly]),
      [
        ['/plugin', true],
        ['/run/classtop', false],
        ['/dev/shm', false],
        ['/plugin/data', false],
      ],
    );
    assert.equal(spec.env.CLASSTOP_DEPENDENCIES_DIR, '');
  });

  it("mounts the plugin's resolved dependencies read-only, and tells the runner where", () => {
    const dependenciesDir = path.join(scratch, 'shm');
    const spec = buildSandboxSpec(input({ dependenciesDir }));
    assert.deepEqual(spec.mounts.at(-1), {
      source: dependenciesDir,
      target: '/opt/classtop/dependencies',
      readOnly: true,
    });
    assert.equal(spec.env.CLASSTOP_DEPENDENCIES_DIR, '/opt/classtop/dependencies');
  });

  it('labels the container with who it belongs to', () => {
    const spec = buildSandboxSpec(input());
    assert.deepEqual(spec.labels, {
      [LABELS.managed]: 'true',
      [LABELS.orchestrator]: 'o1',
      [LABELS.tenant]: 'school-a',
      [LABELS.pluginId]: 'com.example.p',
      [LABELS.pluginVersion]: '1.2.3',
      [LABELS.instance]: 'abc123',
    });
  });

  it('refuses mount sources reached through a symlink, system directories, and the Docker socket', () => {
    const link = path.join(scratch, 'link');
    symlinkSync(path.join(scratch, 'sockets'), link);
    assert.throws(() => buildSandboxSpec(input({ socketDir: link })), /reached through a symlink/);
    assert.throws(() => buildSandboxSpec(input({ shmDir: '/etc' })), /\/etc is a system path/);
    const withSocket = {
      ...manifest,
      sandbox: { ...manifest.sandbox, paths: [{ relative: 'd', hostPath: '/var/run', readOnly: true }] },
    };
    assert.throws(() => buildSandboxSpec(input({ manifest: withSocket })), /system path|symlink/);
  });
});
