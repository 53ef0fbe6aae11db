import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { templateFiles } from '../../src/authoring/index.ts';
import { DockerSandboxRuntime } from '../../src/sandbox/index.ts';
import { CPP_BUILDER_IMAGE } from '../helpers/cpp-plugins.ts';
import { DevProcess } from '../helpers/dev-process.ts';
import { leftovers } from '../helpers/leftovers.ts';
import { CPP_IMAGE, FIXTURES, testLogger } from '../helpers/test-orchestrator.ts';

const PLUGIN = 'dev/com.test.cpp-counter';

describe('classtop-sandbox dev with a C++ plugin: each save of its source is rebuilt and reloaded', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'ct-dev-cpp-'));
  const plugin = path.join(root, 'cpp-counter');
  const tmp = path.join(root, 'tmp');
  let dev: DevProcess | undefined;

  after(async () => {
    await dev?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('builds it, runs it unsigned; an edit of src/plugin.cpp is rebuilt, reloaded with its state; stops cleanly', async () => {
    // The counter fixture, with the CMakeLists.txt `classtop-sandbox init --language cpp` writes.
    cpSync(path.join(FIXTURES, 'cpp-counter'), plugin, { recursive: true });
    const cmake = templateFiles({ id: 'com.test.cpp-counter', name: 'C++ Counter', language: 'cpp' }).find(
      (f) => f.path === 'CMakeLists.txt',
    );
    writeFileSync(path.join(plugin, 'CMakeLists.txt'), cmake!.text);
    mkdirSync(tmp);
    const lent = path.join(root, 'lent.yaml');
    writeFileSync(lent, stringify({ images: { cpp: CPP_IMAGE } }));

    dev = new DevProcess(plugin, lent, tmp, ['--image', CPP_BUILDER_IMAGE]);
    await dev.said(/com\.test\.cpp-counter 1\.0\.0 is running/);
    const config = DevProcess.sessionConfig(tmp);
    assert.match(dev.stderr, /^classtop-sandbox dev: DEVELOPMENT ONLY\. The plugin runs UNSIGNED/);
    assert.ok(existsSync(path.join(plugin, 'build/plugin.so')), 'built to runtime.entry');
    const first = { answer: 'first', version: '1.0.0', restored_from: null };
    assert.deepEqual((await dev.call(PLUGIN, 'count')).body, { ...first, count: 1 });
    assert.deepEqual((await dev.call(PLUGIN, 'count')).body, { ...first, count: 2 });

    const source = path.join(plugin, 'src/plugin.cpp');
    writeFileSync(source, readFileSync(source, 'utf8').replace('kAnswer = "first"', 'kAnswer = "second"'));
    await dev.said(/reloaded 1\.0\.0 → 1\.0\.0, its state carried over/);
    assert.deepEqual(
      (await dev.call(PLUGIN, 'count')).body,
      { answer: 'second', version: '1.0.0', count: 3, restored_from: '1.0.0' },
      'the new code, with the old state (OnSave → OnRestore)',
    );

    dev.kill('SIGTERM');
    assert.equal(await dev.exited, 0, dev.stderr);
    assert.deepEqual(await leftovers(config, new DockerSandboxRuntime(testLogger())), {
      containers: [],
      socketDirs: [],
      socketLinks: [],
      shmDirs: [],
    });
    assert.deepEqual(readdirSync(tmp), [], 'the session directory is removed');
  });
});
