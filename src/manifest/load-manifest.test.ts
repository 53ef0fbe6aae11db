import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadManifest, ManifestError, type SandboxLimits } from './load-manifest.ts';

const LIMITS: SandboxLimits = {
  maxMemoryMb: 256,
  maxCpus: 1,
  maxPids: 128,
  maxShmMb: 64,
  maxTmpMb: 64,
  allowWritablePaths: false,
};

const VALID = `
metadata:
  id: com.example.myplugin
  name: My Plugin
  version: 1.0.0
  language: node
permissions: [read:courses, emit:events]
privileged_permissions: [privileged:analytics]
certificate:
  required: true
  path: ./plugin.crt
  fingerprint: "sha256:abc123"
ipc:
  protocol: grpc
  address: localhost:50052
  timeout: 30
runtime:
  entry: index.js
`;

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-manifest-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function pluginDir(yaml: string, files: Record<string, string> = { 'index.js': '' }): string {
  const dir = path.join(scratch, `p${counter++}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'plugin.yaml'), yaml);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function problemsOf(dir: string, limits = LIMITS): string[] {
  try {
    loadManifest(dir, limits);
  } catch (err) {
    assert.ok(err instanceof ManifestError);
    assert.equal(err.code, 'INVALID_REQUEST');
    assert.ok(err.message.startsWith(path.join(dir, 'plugin.yaml')), 'the error names the file');
    return [...err.problems];
  }
  assert.fail('the manifest was accepted');
}

describe('loadManifest', () => {
  it('accepts the specification appendix B form with safe sandbox defaults', () => {
    const manifest = loadManifest(pluginDir(VALID), LIMITS);
    assert.equal(manifest.id, 'com.example.myplugin');
    assert.equal(manifest.runtime, 'node');
    assert.equal(manifest.entry, 'index.js');
    assert.deepEqual(manifest.permissions, ['read:courses', 'emit:events']);
    assert.deepEqual(manifest.privilegedPermissions, ['privileged:analytics']);
    assert.equal(manifest.ipcTimeoutMs, 30_000);
    assert.deepEqual(manifest.sandbox, { memoryMb: 128, cpus: 0.5, pids: 64, shmMb: 16, tmpMb: 16, paths: [] });
    assert.ok(Object.isFrozen(manifest));
  });

  it('refuses unknown permissions and says where privileged ones go', () => {
    const problems = problemsOf(
      pluginDir(VALID.replace('[read:courses, emit:events]', '[read:course, privileged:analytics]')),
    );
    assert.match(problems[0] ?? '', /^permissions\.0: unknown permission 'read:course'; use one of read:courses/);
    assert.match(problems[1] ?? '', /^permissions\.1: .*privileged ones go under privileged_permissions/);
  });

  it('refuses malformed ids and versions', () => {
    const problems = problemsOf(pluginDir(VALID.replace('com.example.myplugin', 'myplugin').replace('1.0.0', 'v1')));
    assert.deepEqual(problems, [
      'metadata.id: must be reverse-DNS such as com.example.myplugin (lowercase, at least two dot-separated parts)',
      'metadata.version: must be a semantic version such as 1.0.0',
    ]);
  });

  it('refuses unknown fields and names missing ones', () => {
    const problems = problemsOf(pluginDir(VALID.replace('  name: My Plugin\n', '  nmae: My Plugin\n')));
    assert.ok(problems.includes('metadata.name: is required'), problems.join('\n'));
    assert.ok(
      problems.includes('metadata: unknown field(s) nmae; remove them or check the spelling'),
      problems.join('\n'),
    );
  });

  it('refuses entries and whitelisted paths that leave the plugin directory, by .. or by symlink', () => {
    const outside = path.join(scratch, 'outside');
    mkdirSync(outside, { recursive: true });
    const dir = pluginDir(
      VALID.replace('entry: index.js', 'entry: ../index.js') +
        'sandbox:\n  paths:\n    - { path: /etc }\n    - { path: link }\n    - { path: missing }\n',
    );
    symlinkSync(outside, path.join(dir, 'link'));
    const problems = problemsOf(dir);
    assert.match(problems[0] ?? '', /^runtime\.entry: '\.\.\/index\.js' contains '\.\.'/);
    assert.match(problems[1] ?? '', /^sandbox\.paths\.0\.path: '\/etc' is absolute/);
    assert.match(
      problems[2] ?? '',
      /^sandbox\.paths\.1\.path: 'link' resolves to .*outside, outside the plugin directory/,
    );
    assert.match(problems[3] ?? '', /^sandbox\.paths\.2\.path: 'missing' does not exist/);
  });

  it("refuses limits above the operator's maximum, and writable paths the operator does not allow", () => {
    const dir = pluginDir(
      VALID + 'sandbox:\n  memory_mb: 1024\n  cpus: 2\n  shm_mb: 65\n  paths:\n    - { path: data, mode: rw }\n',
      { 'index.js': '', 'data/.keep': '' },
    );
    const problems = problemsOf(dir);
    assert.deepEqual(problems, [
      "sandbox.memory_mb: 1024 exceeds the operator's maximum of 256; lower it or ask the operator to raise limits.maxMemoryMb",
      "sandbox.cpus: 2 exceeds the operator's maximum of 1; lower it or ask the operator to raise limits.maxCpus",
      "sandbox.shm_mb: 65 exceeds the operator's maximum of 64; lower it or ask the operator to raise limits.maxShmMb",
      "sandbox.paths.0.mode: 'rw' is not allowed by the operator; use 'ro' or ask the operator to set limits.allowWritablePaths",
    ]);
    const allowed = loadManifest(dir, {
      ...LIMITS,
      maxMemoryMb: 2048,
      maxCpus: 2,
      maxShmMb: 128,
      allowWritablePaths: true,
    });
    assert.deepEqual(
      allowed.sandbox.paths.map((p) => [p.relative, p.readOnly]),
      [['data', false]],
    );
  });

  it('reports YAML syntax errors and a missing file', () => {
    assert.match(problemsOf(pluginDir('metadata: [unclosed'))[0] ?? '', /^YAML syntax:/);
    const empty = path.join(scratch, 'empty');
    mkdirSync(empty);
    assert.deepEqual(problemsOf(empty), ['not found; every plugin directory needs a plugin.yaml']);
  });

  it('needs a runtime, and language and runtime.type to agree', () => {
    assert.deepEqual(problemsOf(pluginDir(VALID.replace('  language: node\n', ''))), [
      'runtime.type: is required (node, python or cpp)',
    ]);
    const disagree = problemsOf(pluginDir(VALID.replace('entry: index.js', 'entry: index.js\n  type: python')));
    assert.match(disagree[0] ?? '', /metadata\.language 'node' disagrees with runtime\.type 'python'/);
  });

  it("accepts appendix B's plugin.yaml as written: the language alone gives the runtime and its entry", () => {
    const appendixB = `
metadata:
  id: "com.example.myplugin"
  name: "My Plugin"
  version: "1.0.0"
  author: "developer@example.com"
  description: "A sample plugin"
  homepage: "https://example.com/plugin"
  language: "python"  # "python" 或 "cpp"

dependencies:
  classtop_version: ">=2.0.0"
  python_packages:
    - requests>=2.28.0
    - numpy>=1.24.0

permissions:
  - read:courses
  - emit:events

privileged_permissions:
  - privileged:management_sync

certificate:
  required: true
  path: "./plugin.crt"
  fingerprint: "sha256:abc123..."

ipc:
  protocol: "grpc"  # "grpc", "named_pipes", "shared_memory"
  address: "localhost:50052"
  timeout: 30
`;
    const manifest = loadManifest(pluginDir(appendixB, { 'plugin.py': '' }), LIMITS);
    assert.equal(manifest.runtime, 'python');
    assert.equal(manifest.entry, 'plugin.py');
    const withoutEntry = problemsOf(pluginDir(appendixB, { 'main.py': '' }));
    assert.equal(withoutEntry.length, 1);
    assert.match(withoutEntry[0] ?? '', /^runtime\.entry: .*plugin\.py/);
  });
});
