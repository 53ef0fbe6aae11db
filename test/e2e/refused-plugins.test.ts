import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { leftovers } from '../helpers/leftovers.ts';
import {
  EXAMPLES,
  exampleTrust,
  FIXTURES,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../helpers/test-orchestrator.ts';

describe('plugins that must not run are refused with a clear error, and start nothing', () => {
  let t: TestOrchestrator;
  let scratch: string;
  let badManifest: string;

  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'ct-refused-'));
    badManifest = path.join(scratch, 'bad-manifest');
    cpSync(path.join(EXAMPLES, 'hello-world'), badManifest, { recursive: true });
    writeFileSync(
      path.join(badManifest, 'plugin.yaml'),
      [
        'metadata:',
        '  id: Not-Reverse-DNS',
        '  name: Bad',
        '  version: "1.0"',
        'permissions: [read:courses, delete:everything]',
        'runtime: { type: node, entry: ../../etc/passwd }',
        'sandbox: { memory_mb: 4096 }',
      ].join('\n'),
    );
    t = await startTestOrchestrator([
      {
        id: 'tenant-a',
        permissions: ['read:courses'],
        trust: exampleTrust({ allowUnsigned: true }),
        plugins: [
          badManifest,
          path.join(EXAMPLES, 'hello-world'),
          path.join(FIXTURES, 'crash-on-load'),
          path.join(EXAMPLES, 'course-peek'),
        ],
      },
    ]);
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a bad manifest is in ERROR with every problem: file, field and fix', () => {
    const status = t.orchestrator.list().find((p) => p.directory === badManifest);
    assert.equal(status?.state, 'ERROR');
    assert.equal(status?.containerId, null);
    const error = status?.lastError ?? '';
    assert.ok(error.includes(path.join(badManifest, 'plugin.yaml')), error);
    assert.match(error, /metadata\.id: must be reverse-DNS/);
    assert.match(error, /metadata\.version: must be a semantic version/);
    assert.match(error, /permissions\.1: unknown permission 'delete:everything'; use one of read:courses/);
    assert.match(error, /runtime\.entry: '\.\.\/\.\.\/etc\/passwd' contains '\.\.'/);
    assert.match(
      error,
      /sandbox\.memory_mb: 4096 exceeds the operator's maximum of 512; lower it or ask the operator to raise limits\.maxMemoryMb/,
    );
  });

  it('a permission the tenant does not allow is refused before any container exists', () => {
    const status = t.status('tenant-a', 'com.example.hello-world');
    assert.equal(status.state, 'ERROR');
    assert.equal(status.containerId, null);
    assert.match(status.lastError ?? '', /tenant 'tenant-a' does not allow modify:courses, emit:events/);
  });

  it('an entry that throws while loading ends in ERROR with its output, and its container is removed', () => {
    const status = t.status('tenant-a', 'com.test.crash-on-load');
    assert.equal(status.state, 'ERROR');
    assert.equal(status.containerId, null);
    assert.match(status.lastError ?? '', /container exited with code 1 before registering/);
    assert.match(
      status.lastError ?? '',
      /PluginLoadError: cannot load the plugin entry \/plugin\/index\.js: deliberate failure/,
    );
  });

  it('the other plugins run anyway, and only their containers exist', async () => {
    assert.equal(t.status('tenant-a', 'com.example.course-peek').state, 'ENABLED');
    const { containers, socketDirs, shmDirs } = await leftovers(t.config, t.runtime);
    assert.equal(containers.length, 1);
    assert.match(containers[0] ?? '', /course-peek/);
    assert.equal(socketDirs.length, 1);
    assert.equal(shmDirs.length, 1);
  });
});
