import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { findHostApi, MAX_PAYLOAD_DEPTH, parsePayload } from './host-api-catalogue.ts';
import { nestsDeeperThan } from './json-depth.ts';

const HOSTILE_DEPTH = 100_000;

const deeper = (text: string, max: number) => nestsDeeperThan(Buffer.from(text), max);
const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('nestsDeeperThan', () => {
  it('counts arrays and objects, and allows exactly the maximum', () => {
    assert.equal(deeper(arrays(3), 3), false);
    assert.equal(deeper(arrays(4), 3), true);
    assert.equal(deeper(objects(3), 3), false);
    assert.equal(deeper(objects(4), 3), true);
    assert.equal(deeper('[{"a":[{}]}]', 4), false);
    assert.equal(deeper('[{"a":[{}]}]', 3), true);
    assert.equal(deeper('{"a":1,"b":"x"}', 0), true);
    assert.equal(deeper('"plain" ', 0), false);
  });

  it('counts depth, not the number of containers side by side', () => {
    assert.equal(deeper(`[${Array(10_000).fill('[[]]').join(',')}]`, 3), false);
  });

  it('ignores brackets inside strings', () => {
    assert.equal(deeper(JSON.stringify({ a: '[[[[{{{{', b: ['}}]]'] }), 2), false);
    assert.equal(deeper(JSON.stringify(['[[[[[[[[[[']), 1), false);
  });

  it('follows escapes: an escaped quote does not end a string, an escaped backslash does not escape the quote', () => {
    // String.raw: the JSON text exactly as it is on the wire.
    const quoted = String.raw`{"a":"say \"[[[[[[[[\""}`;
    const backslash = String.raw`{"a":"\\","b":[[[]]]}`;
    const mixed = String.raw`{"a":"\"\\\"\\\\\"","b":[[]]}`;
    const unicode = String.raw`{"a":"\u005b\u007b\u0022[","b":[]}`;
    for (const text of [quoted, backslash, mixed, unicode]) JSON.parse(text); // each is valid JSON
    assert.equal(deeper(quoted, 1), false);
    assert.equal(deeper(backslash, 4), false);
    assert.equal(deeper(backslash, 3), true);
    assert.equal(deeper(mixed, 3), false);
    assert.equal(deeper(mixed, 2), true);
    assert.equal(deeper(unicode, 2), false);
  });

  it('is not fooled by multi-byte UTF-8 text', () => {
    assert.equal(deeper(JSON.stringify({ 'schlüssel [': ['日本語 {', ['🎉 ]]]']] }), 3), false);
    assert.equal(deeper(JSON.stringify({ 'schlüssel [': ['日本語 {', ['🎉 ]]]']] }), 2), true);
  });

  it('scans a hostile 100,000-deep payload without recursion', () => {
    assert.equal(deeper(arrays(HOSTILE_DEPTH), MAX_PAYLOAD_DEPTH), true);
    assert.equal(deeper(objects(HOSTILE_DEPTH), MAX_PAYLOAD_DEPTH), true);
  });
});

describe('parsePayload bounds nesting before parsing', () => {
  const api = findHostApi('set_plugin_data');
  assert.ok(api);

  it('refuses a payload deeper than the maximum with INVALID_REQUEST naming the limit', () => {
    // The payload's own object is one level: the value may nest one less.
    const value = JSON.parse(arrays(MAX_PAYLOAD_DEPTH - 1)) as unknown;
    const atLimit = Buffer.from(JSON.stringify({ key: 'k', value }));
    assert.deepEqual(parsePayload('set_plugin_data', api, atLimit), { key: 'k', value });
    for (const text of [`{"key":"k","value":${arrays(MAX_PAYLOAD_DEPTH)}}`, arrays(HOSTILE_DEPTH)]) {
      assert.throws(
        () => parsePayload('set_plugin_data', api, Buffer.from(text)),
        (err: unknown) =>
          err instanceof SandboxError &&
          err.code === 'INVALID_REQUEST' &&
          /set_plugin_data: payload has arrays or objects nesting deeper than 64 levels/.test(err.message),
      );
    }
  });
});
