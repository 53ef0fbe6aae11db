import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packPlugin } from '../../src/trust/index.ts';
import { checkSarif, type Sarif } from '../helpers/sarif.ts';
import { EXAMPLES, FIXTURES } from '../helpers/test-orchestrator.ts';
import { runVerify, verifyLeftovers, VerifySession } from '../helpers/verify-cli.ts';
import { signAsExampleDeveloper } from '../helpers/verify-plugins.ts';
import { findAll, type XmlElement } from '../helpers/xml-tree.ts';

describe('classtop-sandbox verify', () => {
  const session = new VerifySession();
  const file = (name: string) => session.file(name);
  const junit = (name: string) => session.junit(name);
  const json = (name: string) => session.json(name);
  const run = (name: string) => session.run(name);
  after(() => session.remove());

  before(async () => {
    cpSync(path.join(EXAMPLES, 'hello-world'), file('hello-tampered'), { recursive: true });
    appendFileSync(file('hello-tampered/index.js'), '\n// changed after signing\n');
    cpSync(path.join(EXAMPLES, 'hello-world'), file('hello-ui'), { recursive: true });
    writeFileSync(file('hello-ui/plugin_ui.js'), 'export default {};\n');
    for (const fixture of ['verify-state-loser', 'verify-memory-hog']) {
      cpSync(path.join(FIXTURES, fixture), file(fixture), { recursive: true });
      signAsExampleDeveloper(file(fixture));
    }
    await packPlugin(path.join(EXAMPLES, 'course-peek'), file('course-peek.ctp'));
    const verify = session.verify.bind(session);
    // Independent runs, each with its own orchestrator and Redis: at once, to keep the file short.
    await Promise.all([
      verify('hello', path.join(EXAMPLES, 'hello-world'), ['--json', '--sarif', 'hello.sarif']),
      verify('python', path.join(EXAMPLES, 'example-python'), ['--json']),
      verify('peek', 'course-peek.ctp', ['--json']),
      verify('tampered', 'hello-tampered', ['--json', '--sarif', 'tampered.sarif']),
      verify('ui', 'hello-ui', ['--json', '--sarif', 'ui.sarif']),
      verify('loser', 'verify-state-loser', ['--json']),
      verify('hog', 'verify-memory-hog', ['--json']),
      verify('no-engine', path.join(EXAMPLES, 'hello-world'), ['--json'], 'no-engine.yaml'),
      verify('no-engine-loose', 'course-peek.ctp', [], 'no-engine-no-trust.yaml'),
      verify('no-engine-strict', 'course-peek.ctp', ['--strict'], 'no-engine-no-trust.yaml'),
    ]);
  });

  it('passes the Node and Python examples, each step and check a JUnit test case', () => {
    for (const name of ['hello', 'python']) {
      assert.equal(run(name).code, 0, `${name}: ${run(name).stdout}${run(name).stderr}`);
      const suites = junit(name);
      const cases = findAll(suites, 'testcase');
      assert.equal(Number(suites.attrs.tests), cases.length);
      assert.equal(Number(suites.attrs.failures), 0);
      assert.equal(findAll(suites, 'failure').length, 0);
      const names = cases.map((c) => `${c.attrs.classname} ${c.attrs.name}`);
      for (const expected of [
        'classtop.verify.files FILES_UNCHANGED',
        'classtop.verify.certificate-chain CHAIN_TRUSTED',
        'classtop.verify.lifecycle ENABLED: enable',
        'classtop.verify.lifecycle RELOADED: reload: hand-over',
        'classtop.verify.lifecycle DISABLED: disable',
        'classtop.verify.crashes NO_CRASH',
      ])
        assert.ok(
          names.some((n) => n.startsWith(expected)),
          `${name}: no test case ${expected} in ${names.join('\n')}`,
        );
      assert.equal(json(name).exitCode, 0);
      assert.equal(json(name).engine, 'answered');
    }
    const hello = json('hello')['classtop-verify'];
    assert.match(hello.events?.[0]?.detail ?? '', /com\.example\.hello-world\/hello_world_started/);
    assert.deepEqual(
      hello.resources?.map((c) => [c.name, c.severity]),
      [
        ['START_TIME', 'ok'],
        ['MEMORY', 'ok'],
        ['PROCESSES', 'ok'],
      ],
    );
    assert.match(hello.resources?.[1]?.detail ?? '', /of sandbox\.memory_mb 128 MiB/);
    assert.ok(hello['host-calls']?.[0]?.detail.includes('add_course allowed OK'));
    // Least privilege: the Python example declares emit:events and never emits.
    const unused = json('python')['classtop-verify']['permissions-used']?.find((c) => c.name === 'PERMISSION_UNUSED');
    assert.match(unused?.title ?? '', /emit:events/);
  });

  it('reports the JSON in plugin-validator’s shape, and an empty SARIF run for a clean plugin', () => {
    const report = json('hello');
    assert.equal(report.id, 'com.example.hello-world');
    for (const [group, checks] of Object.entries(report['classtop-verify'])) {
      assert.ok(checks.length > 0, group);
      for (const check of checks) {
        assert.ok(['error', 'warning', 'ok', 'skipped'].includes(check.severity), `${group}: ${check.severity}`);
        assert.equal(typeof check.title, 'string');
        assert.equal(typeof check.detail, 'string');
      }
    }
    const sarif = JSON.parse(readFileSync(file('hello.sarif'), 'utf8')) as Sarif;
    assert.equal(sarif.version, '2.1.0');
    assert.equal(sarif.runs.length, 1);
    assert.deepEqual(sarif.runs[0]?.results, []);
  });

  it('fails a copy tampered after signing with FILE_TAMPERED, located at the file in SARIF, and does not run it', () => {
    assert.equal(run('tampered').code, 1);
    const files = json('tampered')['classtop-verify'].files ?? [];
    assert.deepEqual(
      files.map((c) => [c.severity, c.name, c.file]),
      [['error', 'FILE_TAMPERED', 'index.js']],
    );
    const failure = findAll(junit('tampered'), 'failure').find((f) => f.attrs.type === 'FILE_TAMPERED');
    assert.match(failure?.text ?? '', /index\.js/);
    assert.equal(json('tampered')['classtop-verify'].lifecycle?.[0]?.name, 'NOT_RUN');
    const sarif = JSON.parse(readFileSync(file('tampered.sarif'), 'utf8')) as Sarif;
    checkSarif(sarif);
    const result = sarif.runs[0]?.results[0];
    assert.equal(result?.ruleId, 'FILE_TAMPERED');
    assert.equal(result?.level, 'error');
    assert.deepEqual(result?.locations[0]?.physicalLocation.artifactLocation, {
      uri: 'hello-tampered/index.js',
      uriBaseId: '%SRCROOT%',
    });
  });

  it('fails a plugin_ui.js the signature does not cover, naming it', () => {
    assert.equal(run('ui').code, 1);
    const report = json('ui')['classtop-verify'];
    assert.deepEqual(
      report['plugin-ui']?.map((c) => [c.severity, c.name, c.file]),
      [['error', 'UI_NOT_SIGNED', 'plugin_ui.js']],
    );
    assert.deepEqual(
      report.files?.map((c) => [c.name, c.file]),
      [['FILE_EXTRA', 'plugin_ui.js']],
    );
    const sarif = JSON.parse(readFileSync(file('ui.sarif'), 'utf8')) as Sarif;
    checkSarif(sarif);
    assert.deepEqual(sarif.runs[0]?.results.map((r) => r.locations[0]?.physicalLocation.artifactLocation.uri).sort(), [
      'hello-ui/plugin_ui.js',
      'hello-ui/plugin_ui.js',
    ]);
  });

  it('reports course-peek’s add_course call without modify:courses (from a .ctp)', () => {
    assert.equal(run('peek').code, 1);
    const report = json('peek')['classtop-verify'];
    const refused = report['host-calls']?.filter((c) => c.severity === 'error') ?? [];
    assert.deepEqual(
      refused.map((c) => c.name),
      ['PERMISSION_UNDECLARED'],
    );
    assert.match(refused[0]?.title ?? '', /add_course without declaring modify:courses/);
    assert.ok(report.lifecycle?.every((c) => c.severity !== 'error'));
  });

  it('fails the reload of a plugin whose onRestore loses its state', () => {
    assert.equal(run('loser').code, 1);
    const lifecycle = json('loser')['classtop-verify'].lifecycle ?? [];
    assert.deepEqual(
      lifecycle.map((c) => [c.name, c.severity]),
      [
        ['ENABLED', 'ok'],
        ['CALL_OK', 'ok'],
        ['CALL_OK', 'ok'],
        ['SAVED', 'ok'],
        ['RELOADED', 'ok'],
        ['STATE_LOST', 'error'],
        ['DISABLED', 'ok'],
      ],
    );
    const restore = findAll(junit('loser'), 'testcase').find(
      (c) => c.attrs.name === 'STATE_LOST: reload: restore failed',
    );
    assert.match(childText(restore, 'failure'), /\{"count":3\}.*\{"count":0\}/);
  });

  it('reports the OOM kill of a plugin that exceeds its memory, and skips the steps after it', () => {
    assert.equal(run('hog').code, 1);
    const report = json('hog')['classtop-verify'];
    assert.equal(report.crashes?.[0]?.name, 'OOM_KILLED');
    assert.match(report.crashes?.[0]?.detail ?? '', /out of memory/);
    assert.match(report.crashes?.[0]?.detail ?? '', /memory-hog: growing past sandbox\.memory_mb/);
    const unknown = report['host-calls']?.find((c) => c.name === 'API_UNKNOWN');
    assert.match(unknown?.title ?? '', /get_grades/);
    assert.equal(report.lifecycle?.at(-1)?.severity, 'skipped');
  });

  it('skips the dynamic checks when no Docker engine answers, and exits 3 (or 1 under --strict with warnings)', () => {
    assert.equal(run('no-engine').code, 3, run('no-engine').stderr);
    const report = json('no-engine');
    assert.equal(report.engine, 'unavailable');
    assert.equal(report['classtop-verify'].lifecycle?.[0]?.name, 'NO_ENGINE');
    const skipped = findAll(junit('no-engine'), 'testcase').filter((c) => c.children.some((x) => x.name === 'skipped'));
    assert.deepEqual(
      skipped.map((c) => c.attrs.name),
      ['NO_ENGINE: the plugin was not run'],
    );
    assert.match(run('no-engine-loose').stdout, /result: not run \(exit 3\)/);
    assert.equal(run('no-engine-loose').code, 3);
    assert.equal(run('no-engine-strict').code, 1);
  });

  it('leaves no container, process, socket or directory behind', async () => {
    for (const [name, result] of session.all()) {
      const left = await verifyLeftovers(result);
      assert.deepEqual(left, { ...left, containers: [], directory: false, processes: [], shm: false }, name);
    }
  });

  it('on SIGTERM mid-run removes the container, Redis and files, and exits 143', async () => {
    let sent = false;
    const result = await runVerify(
      [path.join(EXAMPLES, 'hello-world'), '--config', 'config.yaml'],
      session.scratch,
      (soFar, pid) => {
        if (!sent && soFar.includes('ENABLED: enable')) {
          sent = true;
          process.kill(pid, 'SIGTERM');
        }
      },
    );
    assert.ok(sent, result.stderr);
    assert.equal(result.code, 143, result.stderr);
    const left = await verifyLeftovers(result);
    assert.deepEqual(left, { ran: true, containers: [], directory: false, processes: [], shm: false });
  });
});

function childText(node: XmlElement | undefined, name: string): string {
  return node?.children.find((c) => c.name === name)?.text ?? '';
}
