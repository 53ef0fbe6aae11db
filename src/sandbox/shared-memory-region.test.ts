import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SandboxError } from '../errors/index.ts';
import { checkSharedMemory, readSharedMemory } from './shared-memory-region.ts';

const MAX = 1024 * 1024;

describe('a shared memory region, from the host side', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-shm-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is read into the buffer the caller owns', async () => {
    writeFileSync(path.join(dir, 'frame'), Buffer.from('0123456789'));
    const into = Buffer.alloc(64);
    const read = await readSharedMemory(dir, 'frame', 10, MAX, into);
    assert.equal(read.toString(), '0123456789');
    assert.equal(read.buffer, into.buffer, 'no new buffer');
  });

  it('is refused when smaller than announced', () => {
    writeFileSync(path.join(dir, 'short'), Buffer.alloc(5));
    assert.throws(
      () => checkSharedMemory(dir, 'short', 10, MAX),
      (err: unknown) => err instanceof SandboxError && /holds 5 bytes, fewer than the 10 announced/.test(err.message),
    );
  });

  it('is refused at once when the plugin planted a FIFO under its name (the open does not wait for a writer)', () => {
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    assert.throws(
      () => checkSharedMemory(dir, 'pipe', 10, MAX),
      (err: unknown) =>
        err instanceof SandboxError && err.message === "shared memory region 'pipe' is not a regular file",
    );
  });
});
