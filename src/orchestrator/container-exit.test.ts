import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeExit } from './container-exit.ts';

describe('describeExit', () => {
  it('names the signal behind a code above 128, the OOM kill, and nothing for a plain exit code', () => {
    assert.equal(describeExit({ exitCode: 139, oomKilled: false }), 'container exited with code 139 (SIGSEGV)');
    assert.equal(describeExit({ exitCode: 134, oomKilled: false }), 'container exited with code 134 (SIGABRT)');
    assert.equal(
      describeExit({ exitCode: 137, oomKilled: true }),
      'container exited with code 137 (killed: out of memory)',
    );
    assert.equal(describeExit({ exitCode: 3, oomKilled: false }), 'container exited with code 3');
    assert.equal(describeExit({ exitCode: 200, oomKilled: false }), 'container exited with code 200');
  });
});
