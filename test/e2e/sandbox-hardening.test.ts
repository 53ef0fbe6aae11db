import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LABELS } from '../../src/sandbox/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { exampleTrust, FIXTURES, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const PROBE = 'com.test.probe';
const MIB = 1024 * 1024;

interface ProbeReport {
  uid: number;
  gid: number;
  interfaces: string[];
  writeRoot: string;
  writePlugin: string;
  writeTmp: string;
  tmpExec: string;
  capEff: string;
  noNewPrivs: string;
  shmBytes: number;
  writeShm: string;
  shmMountOptions: string;
  dockerSocket: boolean;
  runEntries: string[];
  runBytes: number;
  runInodes: number;
  runMountOptions: string;
  writeRunSmall: string;
  writeRunPastCap: string;
  runExec: string;
  manyRunFiles: string;
  memoryLimit: string;
  pidsLimit: string;
  nofile: string;
}

describe('a plugin container is hardened', () => {
  let t: TestOrchestrator;
  let report: ProbeReport;
  let stopped = false;

  before(async () => {
    t = await startTestOrchestrator([
      { id: 'tenant-a', trust: exampleTrust({ allowUnsigned: true }), plugins: [path.join(FIXTURES, 'probe')] },
    ]);
    const { status, body } = await admin<ProbeReport>(
      t.adminUrl,
      'POST',
      `/v1/plugins/tenant-a/${PROBE}/functions/probe`,
      {},
    );
    assert.equal(status, 200, JSON.stringify(body));
    report = body;
  });

  after(async () => {
    if (!stopped) await t?.stop();
  });

  it('docker inspect shows every control', async () => {
    const info = await t.runtime.inspect(t.status('tenant-a', PROBE).containerId as string);
    const host = info.HostConfig;
    assert.equal(host.NetworkMode, 'none');
    assert.equal(host.Privileged, false);
    assert.equal(host.ReadonlyRootfs, true);
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.ok(!host.CapAdd || host.CapAdd.length === 0);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(host.Memory, 96 * MIB);
    assert.equal(host.MemorySwap, 96 * MIB);
    assert.equal(host.NanoCpus, 0.25e9);
    assert.equal(host.PidsLimit, 48);
    assert.deepEqual(host.Ulimits?.map((u) => u.Name).sort(), ['nofile', 'nproc']);
    assert.match(host.Tmpfs?.['/tmp'] ?? '', /noexec/);
    assert.equal(host.LogConfig?.Type, 'json-file');
    assert.ok(host.LogConfig?.Config?.['max-size']);
    assert.ok(!host.PidMode && !host.UTSMode && !host.UsernsMode, 'no host namespaces');
    assert.equal(host.IpcMode, 'private');
    assert.equal(info.Config.User, '10001:10001');
    assert.equal(info.Image.startsWith('sha256:'), true, 'pinned by image id');
    const mounts = info.Mounts.map((m) => `${m.Destination}:${m.RW ? 'rw' : 'ro'}`).sort();
    assert.deepEqual(mounts, ['/dev/shm:rw', '/plugin:ro', '/run/classtop:rw']);
    assert.ok(info.Mounts.every((m) => !m.Source.includes('docker.sock')));
    const labels = info.Config.Labels;
    assert.equal(labels[LABELS.managed], 'true');
    assert.equal(labels[LABELS.tenant], 'tenant-a');
    assert.equal(labels[LABELS.pluginId], PROBE);
    assert.equal(labels[LABELS.pluginVersion], '0.1.0');
    assert.equal(labels[LABELS.instance], t.status('tenant-a', PROBE).instanceId);
  });

  it('inside: no network interface but lo', () => {
    assert.deepEqual(report.interfaces, ['lo']);
  });

  it('inside: not root, no capabilities, no new privileges', () => {
    assert.equal(report.uid, 10001);
    assert.equal(report.gid, 10001);
    assert.equal(report.capEff, '0000000000000000');
    assert.equal(report.noNewPrivs, '1');
  });

  it('inside: the root file system and the plugin directory are read-only; /tmp is writable but noexec', () => {
    assert.equal(report.writeRoot, 'EROFS');
    assert.equal(report.writePlugin, 'EROFS');
    assert.equal(report.writeTmp, 'ok');
    assert.equal(report.tmpExec, 'EACCES');
  });

  it('inside: /dev/shm is its own tmpfs, capped at the manifest size, writable', () => {
    assert.equal(report.shmBytes, 8 * MIB);
    assert.equal(report.writeShm, 'ok');
    assert.match(report.shmMountOptions, /nosuid/);
  });

  it('inside: /run/classtop is a tiny tmpfs of its own: capped in bytes and inodes, noexec, and the plugin still works', () => {
    assert.equal(report.runBytes, 16 * 1024);
    assert.equal(report.runInodes, 8);
    for (const flag of ['noexec', 'nosuid', 'nodev']) assert.match(report.runMountOptions, new RegExp(flag));
    assert.equal(report.writeRunSmall, 'ok');
    assert.equal(report.writeRunPastCap, 'ENOSPC');
    assert.equal(report.runExec, 'EACCES');
    assert.equal(report.manyRunFiles, 'ENOSPC');
    // It answered this call on its own socket, and registered on the gateway's: both sockets work.
  });

  it('inside: limits are in force and only its own sockets are there, never the Docker socket', () => {
    assert.equal(Number(report.memoryLimit), 96 * MIB);
    assert.equal(report.pidsLimit, '48');
    assert.equal(report.nofile, '1024');
    assert.equal(report.dockerSocket, false);
    assert.deepEqual(report.runEntries, ['gateway.sock', 'plugin.sock']);
  });

  it('outside: stopping unmounts and removes its socket and shm tmpfs', async () => {
    const socketDir = path.join(t.config.runtimeDir, t.config.orchestratorId);
    const mounted = () =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4]);
    assert.ok(
      mounted().some((m) => m?.startsWith(socketDir)),
      'while it runs, its socket directory is a mount',
    );
    stopped = true;
    await t.stop();
    assert.deepEqual(
      mounted().filter((m) => m?.startsWith(socketDir) || m?.startsWith(t.config.shmDir)),
      [],
    );
  });
});
