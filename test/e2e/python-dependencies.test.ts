import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { PluginStatus } from '../../src/orchestrator/index.ts';
import { admin } from '../helpers/admin-client.ts';
import { leftovers } from '../helpers/leftovers.ts';
import {
  EXAMPLE_TRUST,
  REPO_ROOT,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../helpers/test-orchestrator.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
const DEVELOPER = path.join(EXAMPLE_TRUST, 'developer');
const TENANT = 'school-deps';
const WHEEL = 'com.example.deps-wheel';
const TWIN = 'com.example.deps-wheel-twin';
const UNMET = 'com.example.deps-unmet';
const FUTURE = 'com.example.deps-future';
/** A distribution no Debian package provides: only the wheel the test builds can meet it. */
const DIST = 'classtop-test-greeting';
const MODULE = 'classtop_test_greeting';

const PLUGIN_PY = `
from tauri_app.plugin_system.base import Plugin
import ${MODULE}
import requests

class DepsPlugin(Plugin):
    exports = ["use_deps"]

    async def on_enable(self): pass
    async def on_disable(self): pass

    async def use_deps(self, data):
        return {
            "greeting": ${MODULE}.greet(data["name"]),
            "greeting_from": ${MODULE}.__file__,
            "requests": requests.__version__,
            "requests_from": requests.__file__,
        }
`;

/** Builds the wheel from a small local source package: pip, no index, no network. */
async function buildWheel(scratch: string): Promise<string> {
  const source = path.join(scratch, 'greeting-src');
  mkdirSync(path.join(source, MODULE), { recursive: true });
  writeFileSync(
    path.join(source, 'pyproject.toml'),
    `[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n` +
      `[project]\nname = "${DIST}"\nversion = "1.2.0"\n`,
  );
  writeFileSync(path.join(source, MODULE, '__init__.py'), 'def greet(name):\n    return f"hello, {name}"\n');
  const out = path.join(scratch, 'built-wheels');
  await run(PYTHON, ['-m', 'pip', 'wheel', '--no-index', '--no-deps', '--no-build-isolation', '-w', out, source]);
  const [wheel] = readdirSync(out);
  assert.equal(wheel, `${MODULE}-1.2.0-py3-none-any.whl`);
  return path.join(out, wheel);
}

/** A Python plugin, signed by the example developer (com.example.*) so its wheels are covered. */
async function writePlugin(dir: string, id: string, dependencies: string[], wheel?: string): Promise<string> {
  mkdirSync(path.join(dir, 'wheels'), { recursive: true });
  writeFileSync(
    path.join(dir, 'plugin.yaml'),
    [
      `metadata: { id: ${id}, name: Deps, version: 1.0.0, language: python }`,
      'dependencies:',
      ...dependencies.map((line) => `  ${line}`),
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'plugin.py'), PLUGIN_PY);
  if (wheel) copyFileSync(wheel, path.join(dir, 'wheels', path.basename(wheel)));
  const key = path.join(DEVELOPER, 'developer.key.pem');
  await run(process.execPath, [CLI, 'sign', dir, '--key', key, '--cert', path.join(DEVELOPER, 'developer.pem')]);
  return dir;
}

describe('python_packages and classtop_version: resolved before any plugin container', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'ct-pydeps-'));
  let t: TestOrchestrator;
  const status = (id: string): PluginStatus => t.status(TENANT, id);

  before(async () => {
    const wheel = await buildWheel(scratch);
    const withWheel = [`python_packages: ["${DIST}>=1.0", "requests>=2.28.0"]`];
    // Signed side by side: each `sign` is a CLI process of its own.
    const plugins = await Promise.all([
      writePlugin(path.join(scratch, 'wheel'), WHEEL, withWheel, wheel),
      writePlugin(path.join(scratch, 'twin'), TWIN, withWheel, wheel),
      writePlugin(path.join(scratch, 'unmet'), UNMET, ['python_packages: ["requests>=9"]']),
      writePlugin(path.join(scratch, 'future'), FUTURE, ['classtop_version: ">=3.0.0"']),
    ]);
    t = await startTestOrchestrator([{ id: TENANT, plugins }]);
  });

  after(async () => {
    await t?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a wheel carried in the bundle is installed offline and imported; requests comes from the image', async () => {
    assert.equal(status(WHEEL).state, 'ENABLED', status(WHEEL).lastError ?? '');
    assert.equal(status(WHEEL).signed, true);
    const { status: code, body } = await admin<Record<string, string>>(
      t.adminUrl,
      'POST',
      `/v1/plugins/${TENANT}/${WHEEL}/functions/use_deps`,
      { name: 'Ada' },
    );
    assert.equal(code, 200, JSON.stringify(body));
    assert.equal(body.greeting, 'hello, Ada');
    assert.equal(body.greeting_from, `/opt/classtop/dependencies/${MODULE}/__init__.py`);
    assert.equal(body.requests, '2.28.1');
    assert.equal(body.requests_from, '/usr/lib/python3/dist-packages/requests/__init__.py');
  });

  it('the installed packages are one read-only, content-addressed directory both plugins share', async () => {
    assert.equal(status(TWIN).state, 'ENABLED', status(TWIN).lastError ?? '');
    const mountOf = async (id: string) => {
      const info = await t.runtime.inspect(status(id).containerId as string);
      return info.Mounts.find((m) => m.Destination === '/opt/classtop/dependencies');
    };
    const [ours, twins] = [await mountOf(WHEEL), await mountOf(TWIN)];
    assert.equal(ours?.RW, false);
    assert.equal(ours?.Source, twins?.Source);
    const cache = path.join(t.config.stateDir, 'python-packages');
    assert.deepEqual(readdirSync(cache).length, 1, 'one resolution for both');
    assert.equal(ours?.Source, path.join(cache, readdirSync(cache)[0] ?? '', 'site-packages'));
    assert.equal(existsSync(path.join(t.config.stateDir, t.config.orchestratorId, 'python-packages-partial')), true);
    assert.deepEqual(readdirSync(path.join(t.config.stateDir, t.config.orchestratorId, 'python-packages-partial')), []);
  });

  it('a restart reuses the resolved directory: no resolver container runs again', async () => {
    const events = await t.runtime.containerEvents(t.config.orchestratorId, 5_000);
    const created: string[] = [];
    events.on('data', (chunk: Buffer) => {
      for (const line of chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')) {
        const event = JSON.parse(line) as { status?: string; Actor?: { Attributes?: Record<string, string> } };
        if (event.status === 'create') created.push(event.Actor?.Attributes?.['io.classtop.instance'] ?? '?');
      }
    });
    try {
      const before = status(WHEEL).containerId;
      const submitted = await admin<{ jobId: string }>(t.adminUrl, 'POST', `/v1/plugins/${TENANT}/${WHEEL}/restart`);
      await t.orchestrator.waitForJob(submitted.body.jobId, 60_000);
      assert.equal(status(WHEEL).state, 'ENABLED', status(WHEEL).lastError ?? '');
      assert.notEqual(status(WHEEL).containerId, before);
      const info = await t.runtime.inspect(status(WHEEL).containerId as string);
      // The engine reports the new plugin container's creation before its start; it is the only one.
      assert.deepEqual(created, [info.Config.Labels['io.classtop.instance']]);
    } finally {
      (events as unknown as { destroy(): void }).destroy();
    }
  });

  it('an unsatisfiable requirement is refused with its own reason, naming it and what was found', async () => {
    const refused = status(UNMET);
    assert.equal(refused.state, 'ERROR');
    assert.equal(refused.containerId, null);
    assert.equal(refused.reason, 'DEPENDENCY_UNSATISFIED');
    assert.match(
      refused.lastError ?? '',
      /^DEPENDENCY_UNSATISFIED: com\.example\.deps-unmet: dependencies\.python_packages cannot be met: requests>=9: the image has requests 2\.28\.1 and the bundle carries no wheel for it\. Carry a wheel/,
    );
    const { body } = await admin<PluginStatus>(t.adminUrl, 'GET', `/v1/plugins/${TENANT}/${UNMET}`);
    assert.equal(body.reason, 'DEPENDENCY_UNSATISFIED');
  });

  it('a classtop_version the host does not satisfy is refused, saying needed and found', () => {
    const refused = status(FUTURE);
    assert.equal(refused.state, 'ERROR');
    assert.equal(refused.containerId, null);
    assert.equal(refused.reason, 'CLASSTOP_VERSION_UNSATISFIED');
    assert.match(
      refused.lastError ?? '',
      /needs ClassTop >=3\.0\.0 \(dependencies\.classtop_version\), but this host implements ClassTop 2\.0\.0/,
    );
  });

  it('leaves no resolver container or scratch directory behind: only the two plugins run', async () => {
    const { containers, socketDirs } = await leftovers(t.config, t.runtime);
    assert.equal(containers.length, 2, String(containers));
    assert.ok(
      containers.every((name) => /deps-wheel/.test(name) && !/-deps-[0-9a-f]{12}$/.test(name)),
      String(containers),
    );
    assert.equal(socketDirs.length, 2, String(socketDirs));
  });
});
