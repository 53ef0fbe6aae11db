import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { BUILD_LABEL } from '../../src/authoring/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { CPP_BUILDER_IMAGE } from '../helpers/cpp-plugins.ts';
import { pollUntil } from '../helpers/poll.ts';
import { REPO_ROOT, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const DEVELOPER = path.join(REPO_ROOT, 'examples/trust/developer');
const TENANT = 'authors';
const LANGUAGES = ['python', 'node', 'cpp'];
/** A C++ build's container must show up within this (it runs CMake for seconds). */
const BUILD_POLL_MS = 50;
const BUILD_MAX_POLLS = 1_200;

const cli = (...args: string[]) => run(process.execPath, [CLI, ...args]);
const failing = (...args: string[]) =>
  cli(...args).then(
    (r) => assert.fail(`expected classtop-sandbox ${args[0]} to fail; it printed ${r.stdout}`),
    (err: unknown) => err as { code: number; stderr: string },
  );

async function scaffold(root: string, language: string): Promise<string> {
  const dir = path.join(root, `hello-${language}`);
  const init = await cli('init', dir, '--language', language, '--name', `Hello ${language}`);
  assert.match(init.stdout, new RegExp(`created com\\.example\\.hello-${language} \\(${language}\\)`));
  // C++: compiled in the builder image this checkout tagged, to build/plugin.so, before signing.
  if (language === 'cpp') await cli('build', dir, '--image', CPP_BUILDER_IMAGE);
  await cli(
    'sign',
    dir,
    '--key',
    path.join(DEVELOPER, 'developer.key.pem'),
    '--cert',
    path.join(DEVELOPER, 'developer.pem'),
  );
  return dir;
}

describe('classtop-sandbox init: a new plugin runs as scaffolded, once signed', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-init-'));
  const plugins: Record<string, string> = {};
  let t: TestOrchestrator;

  before(async () => {
    for (const language of LANGUAGES) plugins[language] = await scaffold(scratch, language);
    t = await startTestOrchestrator([{ id: TENANT, permissions: ['read:courses'], plugins: Object.values(plugins) }]);
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const language of LANGUAGES) {
    it(`a ${language} plugin: ENABLED, answers its exported process_data`, async () => {
      const id = `com.example.hello-${language}`;
      const status = t.status(TENANT, id);
      assert.equal(status.state, 'ENABLED', status.lastError ?? '');
      const answer = await admin<unknown>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${id}/functions/process_data`, {
        n: 7,
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { status: 'ok', received: { n: 7 } });
    });
  }

  it('writes appendix B manifests: language only, no runtime section, the README says the next steps', () => {
    const manifest = readFileSync(path.join(plugins.python!, 'plugin.yaml'), 'utf8');
    assert.match(manifest, /language: python/);
    assert.doesNotMatch(manifest, /^runtime:/m);
    assert.match(readFileSync(path.join(plugins.python!, 'README.md'), 'utf8'), /classtop-sandbox sign/);
  });

  it('refuses to write over an existing plugin, naming the files, and writes nothing', async () => {
    const before = readFileSync(path.join(plugins.node!, 'index.js'), 'utf8');
    const err = await failing('init', plugins.node!, '--language', 'node');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /already has plugin\.yaml, index\.js, README\.md/);
    assert.equal(readFileSync(path.join(plugins.node!, 'index.js'), 'utf8'), before);
  });

  it('refuses an unknown language, naming the ones there are', async () => {
    const err = await failing('init', path.join(scratch, 'x'), '--language', 'rust');
    assert.match(err.stderr, /--language must be one of python, cpp, node, not 'rust'/);
  });

  it('build: a Python or Node plugin has nothing to build; a missing builder image is named with the fix', async () => {
    assert.match((await cli('build', plugins.python!)).stdout, /python plugin: nothing to build/);
    const err = await failing('build', plugins.cpp!, '--image', 'classtop/no-such-builder:0');
    assert.match(
      err.stderr,
      /builder image classtop\/no-such-builder:0 is not on this engine.*docker\/build-images\.sh/,
    );
  });

  it("build: a syntax error fails with the compiler's message, exit 1, and no container is left", async () => {
    const broken = path.join(scratch, 'broken-cpp');
    await cli('init', broken, '--language', 'cpp');
    const source = path.join(broken, 'src/plugin.cpp');
    writeFileSync(
      source,
      readFileSync(source, 'utf8').replace('void OnDisable() override', 'void OnDisable() overide'),
    );
    const containers = async () =>
      (await run('docker', ['ps', '-aq', '--filter', `label=${BUILD_LABEL}=${broken}`])).stdout
        .split('\n')
        .filter(Boolean);
    const building = failing('build', broken, '--image', CPP_BUILDER_IMAGE);
    const seen = await pollUntil(containers, (ids) => ids.length > 0, {
      intervalMs: BUILD_POLL_MS,
      maxPolls: BUILD_MAX_POLLS,
    });
    const err = await building;
    assert.equal(seen.length, 1, 'the build ran in a container of its own');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /src\/plugin\.cpp:\d+:\d+: error: /);
    assert.match(err.stderr, /build of com\.example\.broken-cpp failed \(exit 2\); the compiler's output is above/);
    assert.deepEqual(await containers(), [], 'the build container is removed');
  });
});
