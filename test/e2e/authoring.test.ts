import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin-client.ts';
import { REPO_ROOT, startTestOrchestrator, type TestOrchestrator } from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const DEVELOPER = path.join(REPO_ROOT, 'examples/trust/developer');
const TENANT = 'authors';

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
    for (const language of ['python', 'node']) plugins[language] = await scaffold(scratch, language);
    t = await startTestOrchestrator([{ id: TENANT, permissions: ['read:courses'], plugins: Object.values(plugins) }]);
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const language of ['python', 'node']) {
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
    const cpp = path.join(scratch, 'hello-cpp');
    await cli('init', cpp, '--language', 'cpp');
    const err = await failing('build', cpp, '--image', 'classtop/no-such-builder:0');
    assert.match(
      err.stderr,
      /builder image classtop\/no-such-builder:0 is not on this engine.*docker\/build-images\.sh/,
    );
  });
});
