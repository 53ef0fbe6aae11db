import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult, VerifyReport } from '../check-result.ts';
import { contains } from '../dynamic/contains.ts';
import { exitCodeOf, VERIFY_EXIT } from '../exit-codes.ts';
import { junitReport } from './junit-report.ts';
import { xmlText } from './xml-text.ts';

const check = (severity: CheckResult['severity'], detail = 'd'): CheckResult => ({
  group: 'g',
  code: 'C',
  severity,
  title: 't',
  detail,
  kind: 'static',
});
const report = (checks: CheckResult[], engine: VerifyReport['engine'] = 'answered'): VerifyReport => ({
  source: 'p',
  root: '/p',
  plugin: null,
  checks,
  engine,
});

describe('verify reports', () => {
  it('escapes the five XML characters and replaces what XML cannot carry', () => {
    assert.equal(xmlText(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    assert.equal(xmlText('bell\u0007 nul\u0000 tab\t ok\n'), 'bell\uFFFD nul\uFFFD tab\t ok\n');
    assert.equal(xmlText('lone \uD800 pair \uD83D\uDE00'), 'lone \uFFFD pair \uD83D\uDE00');
  });

  it('exits 0 only without errors (and warnings, under --strict); 3 when the engine was missing', () => {
    assert.equal(exitCodeOf(report([check('ok'), check('skipped')]), false), VERIFY_EXIT.PASSED);
    assert.equal(exitCodeOf(report([check('warning')]), false), VERIFY_EXIT.PASSED);
    assert.equal(exitCodeOf(report([check('warning')]), true), VERIFY_EXIT.FAILED);
    assert.equal(exitCodeOf(report([check('error')], 'unavailable'), false), VERIFY_EXIT.FAILED);
    assert.equal(exitCodeOf(report([check('ok')], 'unavailable'), false), VERIFY_EXIT.NOT_RUN);
  });

  it('counts failures and skips in JUnit as the test cases say', () => {
    const xml = junitReport(report([check('error', 'x<y'), check('warning'), check('skipped')]), true);
    assert.match(xml, /<testsuites [^>]*tests="3" failures="2" errors="0" skipped="1"/);
    assert.match(xml, /<failure message="t" type="C">x&lt;y<\/failure>/);
  });

  it('matches an expectation contained in a result', () => {
    assert.ok(contains({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { c: [1, 2] } }));
    assert.ok(!contains({ a: 1 }, { a: 2 }));
    assert.ok(!contains({ a: [1, 2] }, { a: [1] }));
    assert.ok(contains('ok', 'ok'));
  });
});
