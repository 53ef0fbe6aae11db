import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DependencyError } from './dependency-error.ts';
import { copyReadOnly, makeWritable, packagesKey, publish } from './package-cache.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ct-package-cache-'));
after(async () => {
  await makeWritable(scratch);
  rmSync(scratch, { recursive: true, force: true });
});

let counter = 0;
function dir(files: Record<string, string>): string {
  const root = path.join(scratch, `d${counter++}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  mkdirSync(root, { recursive: true });
  return root;
}

describe('the content key of a python_packages resolution', () => {
  it('is the same for the same requirements (in any order), wheel bytes and image', async () => {
    const a = dir({ 'x-1.0-py3-none-any.whl': 'one', 'notes.txt': 'ignored' });
    const b = dir({ 'x-1.0-py3-none-any.whl': 'one' });
    assert.equal(
      await packagesKey(['x', 'requests'], a, 'sha256:i'),
      await packagesKey(['requests', 'x'], b, 'sha256:i'),
    );
  });

  it('changes with a requirement, a wheel byte or the image', async () => {
    const wheels = dir({ 'x-1.0-py3-none-any.whl': 'one' });
    const base = await packagesKey(['x'], wheels, 'sha256:i');
    assert.notEqual(await packagesKey(['x>=1'], wheels, 'sha256:i'), base);
    assert.notEqual(await packagesKey(['x'], dir({ 'x-1.0-py3-none-any.whl': 'One' }), 'sha256:i'), base);
    assert.notEqual(await packagesKey(['x'], wheels, 'sha256:j'), base);
    assert.notEqual(await packagesKey(['x'], path.join(scratch, 'absent'), 'sha256:i'), base);
  });
});

describe('publishing a resolved directory', () => {
  it('copies files and directories read-only, and refuses anything else', async () => {
    const from = dir({ 'site-packages/x/__init__.py': 'X = 1', 'report.json': '{}' });
    const to = path.join(scratch, 'copy');
    await copyReadOnly(from, to, 'com.example.p');
    assert.equal(readFileSync(path.join(to, 'site-packages/x/__init__.py'), 'utf8'), 'X = 1');
    assert.equal(statSync(path.join(to, 'site-packages/x/__init__.py')).mode & 0o777, 0o444);
    assert.equal(statSync(path.join(to, 'site-packages')).mode & 0o777, 0o555);

    const linked = dir({ 'site-packages/a.py': '' });
    symlinkSync('/etc/passwd', path.join(linked, 'site-packages/evil'));
    await assert.rejects(copyReadOnly(linked, path.join(scratch, 'copy2'), 'com.example.p'), (err: unknown) => {
      assert.ok(err instanceof DependencyError);
      assert.equal(err.reason, 'DEPENDENCY_INSTALL_FAILED');
      assert.match(
        err.message,
        /com\.example\.p: python_packages: site-packages\/evil is neither a file nor a directory/,
      );
      return true;
    });
  });

  it('renames a complete directory into place; a second one of the same content leaves the first', async () => {
    const final = path.join(scratch, 'cache', 'k1');
    await publish(dir({ 'report.json': 'first' }), final);
    const second = dir({ 'report.json': 'second' });
    await publish(second, final);
    assert.equal(readFileSync(path.join(final, 'report.json'), 'utf8'), 'first');
    assert.equal(existsSync(second), false, 'the loser is removed, not left half-way');
  });
});
