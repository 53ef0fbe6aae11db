import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogForwarder } from './log-forwarder.ts';

function forwarder(maxLineBytes: number, maxLinesPerSecond: number) {
  const lines: Array<[string, boolean]> = [];
  const dropped: number[] = [];
  const kept: string[] = [];
  const f = new LogForwarder({
    maxLineBytes,
    maxLinesPerSecond,
    emit: (line, truncated) => lines.push([line, truncated]),
    onDropped: (count) => dropped.push(count),
    keep: (line) => kept.push(line),
  });
  return { f, lines, dropped, kept };
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

  it('reports dropped lines when the window ends, though no other line comes', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { f, dropped } = forwarder(100, 2);
    f.push(Buffer.from('1\n2\n3\n4\n5\n'), 0);
    assert.deepEqual(dropped, []);
    t.mock.timers.tick(999);
    assert.deepEqual(dropped, []);
    t.mock.timers.tick(1);
    assert.deepEqual(dropped, [3]);
    t.mock.timers.tick(10_000);
    assert.deepEqual(dropped, [3], 'reported once');
  });

  it('keeps every line for the tail, dropped ones too, and the last one without a newline at the end', () => {
    const { f, lines, kept, dropped } = forwarder(4, 1);
    f.push(Buffer.from('one\ntwo\nthree-and-more\nlast'), 0);
    f.end(0);
    assert.deepEqual(kept, ['one', 'two', 'thre', 'last']);
    assert.deepEqual(lines, [['one', false]]);
    assert.deepEqual(dropped, [3], 'reported at the end');
  });
});
