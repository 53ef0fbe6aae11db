import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWatchedChange } from './plugin-watcher.ts';

describe('which changes reload a plugin under development', () => {
  it('edits of its files and directories do', () => {
    for (const file of ['plugin.py', 'plugin.yaml', 'src/main.cpp', 'lib/helpers.js', 'config.json']) {
      assert.equal(isWatchedChange(file), true, file);
    }
  });

  it("a build's output, version control, caches and editors' temporary files do not", () => {
    for (const file of [
      'build/plugin.so',
      'build/CMakeFiles/x.o',
      '.git/index',
      '__pycache__/plugin.cpython-311.pyc',
      '.plugin.py.swp',
      '.plugin.py.swx',
      'plugin.py~',
      '.#plugin.py',
      '#plugin.py#',
      '4913',
      'plugin.py___jb_tmp___',
      'sedAb12Cd',
    ]) {
      assert.equal(isWatchedChange(file), false, file);
    }
  });
});
