import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CPP_PLUGIN_ABI } from '../../src/protocol/index.ts';
import { checkSarif, type Sarif } from '../helpers/sarif.ts';
import { verifyLeftovers, VerifySession } from '../helpers/verify-cli.ts';
import { buildCppPlugins, writeUnmetPythonPlugin } from '../helpers/verify-plugins.ts';
import { findAll } from '../helpers/xml-tree.ts';

/** A requirement nothing provides: neither the python image nor a wheel of the bundle. */
const UNMET = 'classtop-no-such-dist>=1';

describe("classtop-sandbox verify: a C++ library's ABI and a Python plugin's dependencies", () => {
  const session = new VerifySession();
  const file = (name: string) => session.file(name);
  const junit = (name: string) => session.junit(name);
  const json = (name: string) => session.json(name);
  const run = (name: string) => session.run(name);
  after(() => session.remove());

  before(async () => {
    writeUnmetPythonPlugin(session.scratch, 'deps-refused', UNMET);
    const verify = session.verify.bind(session);
    await Promise.all([
      verify('deps', 'deps-refused', ['--json']),
      verify('deps-no-engine', 'deps-refused', ['--json'], 'no-engine.yaml'),
      // Compiled in the builder image meanwhile, then verified like any other.
      buildCppPlugins(session.scratch).then(() =>
        Promise.all([
          verify('cpp', 'cpp-example', ['--json']),
          verify('bad-abi', 'cpp-bad-abi', ['--json', '--sarif', 'bad-abi.sarif']),
        ]),
      ),
    ]);
  });

  it("passes the specification's C++ example, its library's ABI read from the file, and runs it", () => {
    assert.equal(run('cpp').code, 0, `${run('cpp').stdout}${run('cpp').stderr}`);
    const suites = junit('cpp');
    assert.equal(Number(suites.attrs.failures), 0);
    const names = findAll(suites, 'testcase').map((c) => `${c.attrs.classname} ${c.attrs.name}`);
    for (const expected of [
      'classtop.verify.dependencies NO_DEPENDENCIES',
      `classtop.verify.cpp-abi ABI_COMPATIBLE: built for SDK ABI ${CPP_PLUGIN_ABI.major}.${CPP_PLUGIN_ABI.minor}`,
      'classtop.verify.lifecycle ENABLED: enable',
      'classtop.verify.lifecycle DISABLED: disable',
      'classtop.verify.crashes NO_CRASH',
    ])
      assert.ok(
        names.some((n) => n.startsWith(expected)),
        `no test case ${expected} in ${names.join('\n')}`,
      );
    assert.equal(json('cpp').engine, 'answered');
  });

  it('fails a library built for another SDK ABI with PLUGIN_ABI_MISMATCH, statically: never run', () => {
    assert.equal(run('bad-abi').code, 1);
    const report = json('bad-abi')['classtop-verify'];
    assert.deepEqual(
      report['cpp-abi']?.map((c) => [c.severity, c.name, c.file]),
      [['error', 'PLUGIN_ABI_MISMATCH', 'build/plugin.so']],
    );
    const { major, minor } = CPP_PLUGIN_ABI;
    assert.match(
      report['cpp-abi']?.[0]?.detail ?? '',
      new RegExp(
        `^build/plugin\\.so was built for SDK ABI 2\\.0; this runner serves SDK ABI ${major}\\.0 to ${major}\\.${minor}`,
      ),
    );
    assert.equal(report.lifecycle?.[0]?.name, 'NOT_RUN');
    assert.match(report.lifecycle?.[0]?.detail ?? '', /PLUGIN_ABI_MISMATCH/);
    const sarif = JSON.parse(readFileSync(file('bad-abi.sarif'), 'utf8')) as Sarif;
    checkSarif(sarif);
    const result = sarif.runs[0]?.results.find((r) => r.ruleId === 'PLUGIN_ABI_MISMATCH');
    assert.equal(result?.locations[0]?.physicalLocation.artifactLocation.uri, 'cpp-bad-abi/build/plugin.so');
  });

  it('fails dependencies the host cannot meet, each at its plugin.yaml line; without an engine, packages are skipped', () => {
    assert.equal(run('deps').code, 1);
    const found = json('deps')['classtop-verify'].dependencies ?? [];
    // Signing rewrote plugin.yaml: the lines are where the fields are now.
    const lines = readFileSync(file('deps-refused/plugin.yaml'), 'utf8').split('\n');
    const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
    assert.deepEqual(
      found.map((c) => [c.severity, c.name, c.file, c.line]),
      [
        ['error', 'CLASSTOP_VERSION_UNSATISFIED', 'plugin.yaml', lineOf('classtop_version:')],
        ['error', 'DEPENDENCY_UNSATISFIED', 'plugin.yaml', lineOf(UNMET)],
      ],
    );
    assert.match(found[0]?.detail ?? '', /needs ClassTop >=99\.0\.0 \(dependencies\.classtop_version\), but this host/);
    assert.match(found[1]?.detail ?? '', /^classtop-no-such-dist>=1: the image does not have classtop-no-such-dist/);
    assert.match(found[1]?.detail ?? '', /wheels\/\*\.whl/);
    assert.equal(json('deps')['classtop-verify'].lifecycle?.[0]?.name, 'NOT_RUN');
    const offline = json('deps-no-engine')['classtop-verify'].dependencies ?? [];
    assert.deepEqual(
      offline.map((c) => [c.severity, c.name, c.line]),
      [
        ['error', 'CLASSTOP_VERSION_UNSATISFIED', lineOf('classtop_version:')],
        ['skipped', 'NO_ENGINE', lineOf('requests>=2')],
      ],
    );
  });

  it('leaves no container, process, socket or directory behind', async () => {
    for (const [name, result] of session.all()) {
      const left = await verifyLeftovers(result);
      assert.deepEqual(left, { ...left, containers: [], directory: false, processes: [], shm: false }, name);
    }
  });
});
