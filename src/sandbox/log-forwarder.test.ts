import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogForwarder } from './log-forwarder.ts';

function forwarder(maxLineBytes: number, maxLinesPerSecond: number) {
  const lines: Array<[string, boolean]> = [];
  const dropped: number[] = [];
  const f = new LogForwarder({
    maxLineBytes,
    maxLinesPerSecond,
    emit: (line, truncated) => lines.push([line, truncated]),
    onDropped: (count) => dropped.push(count),
  });
  return { f, lines, dropped };
}

describe('LogForwarder', () => {
  it('joins lines split across chunks', () => {
    const { f, lines } = forwarder(100, 100);
    f.push(Buffer.from('hel'), 0);
    f.push(Buffer.from('lo\nwor'), 0);
    f.push(Buffer.from('ld\n'), 0);
    assert.deepEqual(lines, [
      ['hello', false],
      ['world', false],
    ]);
  });

  it('cuts long lines, including one that never ends', () => {
    const { f, lines } = forwarder(4, 100);
    f.push(Buffer.from('abcdefgh\n'), 0);
    f.push(Buffer.from('x'.repeat(10)), 0);
    assert.deepEqual(lines, [
      ['abcd', true],
      ['xxxx', true],
    ]);
  });

  it('drops lines over the rate and reports how many in the next window', () => {
    const { f, lines, dropped } = forwarder(100, 2);
    f.push(Buffer.from('1\n2\n3\n4\n'), 0);
    assert.equal(lines.length, 2);
    f.push(Buffer.from('5\n'), 1_000);
    assert.deepEqual(dropped, [2]);
    assert.deepEqual(
      lines.map(([l]) => l),
      ['1', '2', '5'],
    );
  });
});
