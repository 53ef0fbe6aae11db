import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { SandboxConfig } from '../../src/config/index.ts';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { DevProcess } from '../helpers/dev-process.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { FIXTURES, NODE_IMAGE, PYTHON_IMAGE, REPO_ROOT, testLogger } from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const PYTHON = 'dev/com.test.dev-counter';
const NODE = 'dev/com.test.counter';
/** One log record, as dev prints it: time, level, message. */
const READABLE_LINE = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

/** A scratch directory with a copy of `fixture`, a TMPDIR for the session, and a config lending this checkout's images. */
function workspace(fixture: string) {
  const root = mkdtempSync(path.join(tmpdir(), 'ct-dev-'));
  const plugin = path.join(root, fixture);
  cpSync(path.join(FIXTURES, fixture), plugin, { recursive: true });
  const tmp = path.join(root, 'tmp');
  mkdirSync(tmp);
  const lent = path.join(root, 'lent.yaml');
  // Only its sandbox profile is borrowed: its tenant (signed only) and Redis must not matter.
  writeFileSync(
    lent,
    stringify({
      images: { node: NODE_IMAGE, python: PYTHON_IMAGE },
      redis: { url: 'redis://127.0.0.1:1' },
      tenants: [{ id: 'dev', trust: { allowUnsigned: false } }],
    }),
  );
  return { root, plugin, tmp, lent };
}

/** Stops the session with SIGTERM and checks it exits 0 leaving no container, socket, shm, Redis or file. */
async function stopsCleanly(dev: DevProcess, config: SandboxConfig, tmp: string): Promise<void> {
  dev.kill('SIGTERM');
  assert.equal(await dev.exited, 0, dev.stderr);
  assert.deepEqual(await leftovers(config, new DockerSandboxRuntime(testLogger())), {
    containers: [],
    socketDirs: [],
    socketLinks: [],
    shmDirs: [],
  });
  assert.equal(existsSync(config.shmDir), false, 'the session shm directory is removed');
  assert.deepEqual(readdirSync(tmp), [], 'the session directory (config, Redis data, copies) is removed');
  const redis = await run('pgrep', ['-f', tmp]).then(
    (r) => r.stdout,
    () => '',
  );
  assert.equal(redis, '', 'no redis-server (or anything else) of the session runs');
}

describe('classtop-sandbox dev: the inner loop, in the real sandbox', () => {
  // Last in, first out: a session still running after a failed assertion is stopped before its files go.
  const cleanups: Array<() => void | Promise<void>> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('python: says it is unsigned, streams readable logs, reloads each save with its state, survives broken saves', async () => {
    const { root, plugin, tmp, lent } = workspace('dev-counter');
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const dev = new DevProcess(plugin, lent, tmp);
    cleanups.push(() => dev.stop());
    await dev.said(/com\.test\.dev-counter 1\.0\.0 is running/);
    const config = DevProcess.sessionConfig(tmp);
    assert.match(dev.stderr, /^classtop-sandbox dev: DEVELOPMENT ONLY\. The plugin runs UNSIGNED, in tenant 'dev'/);
    assert.equal(config.tenants.length, 1);
    assert.equal(config.redis.url, undefined, "the lent config's Redis is never used");
    await dev.said(
      /admin API on http:\/\/127\.0\.0\.1:\d+; try\n {2}classtop-sandbox call dev\/com\.test\.dev-counter FUNCTION/,
    );

    // The printed `call` line works as printed.
    const first = await run(process.execPath, [CLI, 'call', PYTHON, 'count', '{}', '--admin', dev.admin]);
    assert.deepEqual(JSON.parse(first.stdout), { answer: 'first', count: 1 });
    assert.deepEqual((await dev.call(PYTHON, 'count')).body, { answer: 'first', count: 2 });
    assert.match(dev.stdout, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}answering first from count 0; 4 courses$/m);
    for (const line of dev.stdout.trimEnd().split('\n')) assert.match(line, READABLE_LINE, 'not raw JSON');

    const source = path.join(plugin, 'plugin.py');
    const good = readFileSync(source, 'utf8');
    writeFileSync(source, good.replace('ANSWER = "first"', 'ANSWER = "second"'));
    await dev.said(/reloaded 1\.0\.0 → 1\.0\.0, its state carried over/);
    assert.deepEqual((await dev.call(PYTHON, 'count')).body, { answer: 'second', count: 3 }, 'new code, old state');
    assert.match(dev.stdout, /INFO {2}answering second from count 2; 4 courses$/m);

    writeFileSync(source, `${good.replace('ANSWER = "first"', 'ANSWER = "broken"')}\ndef broken(:\n`);
    await dev.said(/ERROR: this save does not run; the last good version \(1\.0\.0\) keeps running/);
    assert.match(dev.stderr, /SyntaxError: invalid syntax \(plugin\.py, line \d+\)/);
    assert.deepEqual((await dev.call(PYTHON, 'count')).body, { answer: 'second', count: 4 }, 'the last good version');

    const manifest = path.join(plugin, 'plugin.yaml');
    const goodManifest = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, goodManifest.replace('permissions: [read:courses]', 'permissions: [read:everything]'));
    await dev.said(/this save does not run/, 2);
    assert.match(dev.stderr, /plugin\.yaml is invalid:\n.*permissions\.0: unknown permission 'read:everything'/);
    assert.deepEqual((await dev.call(PYTHON, 'count')).body, { answer: 'second', count: 5 });

    writeFileSync(source, good.replace('ANSWER = "first"', 'ANSWER = "third"'));
    writeFileSync(manifest, goodManifest.replace('version: 1.0.0', 'version: 1.0.1'));
    await dev.said(/reloaded 1\.0\.0 → 1\.0\.1, its state carried over/);
    assert.deepEqual((await dev.call(PYTHON, 'count')).body, { answer: 'third', count: 6 }, 'fixed: reloaded');

    await stopsCleanly(dev, config, tmp);
  });

  it('node: starts unsigned, reloads an edit with its state, stops cleanly', async () => {
    const { root, plugin, tmp, lent } = workspace('counter');
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const dev = new DevProcess(plugin, lent, tmp);
    cleanups.push(() => dev.stop());
    await dev.said(/com\.test\.counter 1\.0\.0 is running/);
    const config = DevProcess.sessionConfig(tmp);
    assert.deepEqual((await dev.call(NODE, 'count')).body, { version: '1.0.0', count: 1, restoredFrom: null });

    const manifest = path.join(plugin, 'plugin.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('version: 1.0.0', 'version: 1.1.0'));
    await dev.said(/reloaded 1\.0\.0 → 1\.1\.0/);
    assert.deepEqual((await dev.call(NODE, 'count')).body, { version: '1.1.0', count: 2, restoredFrom: '1.0.0' });

    await stopsCleanly(dev, config, tmp);
  });

  it('refuses an admin API off loopback, a plugin.yaml it cannot read, a C++ plugin it cannot build; leaves nothing', async () => {
    const { root, plugin, tmp, lent } = workspace('dev-counter');
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const env = { ...process.env, TMPDIR: tmp };
    const cli = (...args: string[]) =>
      run(process.execPath, [CLI, 'dev', ...args], { env }).then(
        () => assert.fail('dev should have refused'),
        (err: unknown) => err as { code: number; stderr: string },
      );
    const open = await cli(plugin, '--admin', '0.0.0.0:7070');
    assert.equal(open.code, 1);
    assert.match(open.stderr, /--admin 0\.0\.0\.0:7070: .* listens on loopback only; use 127\.0\.0\.1:PORT/);
    writeFileSync(path.join(plugin, 'plugin.yaml'), 'metadata: {}\n');
    const invalid = await cli(plugin, '--config', lent);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /DEVELOPMENT ONLY[\s\S]*plugin\.yaml is invalid:\n\s+- metadata\.id/);
    const cpp = path.join(root, 'hello-cpp');
    await run(process.execPath, [CLI, 'init', cpp, '--language', 'cpp']);
    const unbuilt = await cli(cpp, '--config', lent, '--image', 'classtop/no-such-builder:0');
    assert.equal(unbuilt.code, 1);
    assert.match(
      unbuilt.stderr,
      /builder image classtop\/no-such-builder:0 is not on this engine/,
      'a C++ plugin is built first',
    );
    assert.deepEqual(readdirSync(tmp), [], 'no session directory is left');
  });
});
