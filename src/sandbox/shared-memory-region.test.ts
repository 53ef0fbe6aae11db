import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { pbkdf2 as pbkdf2Callback } from 'node:crypto';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SandboxError } from '../errors/index.ts';
import { checkSharedMemory, readSharedMemory, regionsMapInPlace, SharedMemoryViews } from './shared-memory-region.ts';

const MAX = 1024 * 1024;
const pbkdf2 = promisify(pbkdf2Callback);

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

  describe('lent in place (the shm-map addon)', () => {
    const views = new SharedMemoryViews(dir, MAX);

    it('is built, so that regions are mapped rather than copied', () => {
      assert.equal(regionsMapInPlace, true, 'npm run build compiles src/sandbox/native/shm-map.c');
    });

    it('shows the plugin’s own pages: a write to the region shows through at once', async () => {
      const file = path.join(dir, 'live');
      writeFileSync(file, Buffer.from('aaaaaaaaaa'));
      const seen = await views.view('live', 10, (bytes) => {
        const first = bytes.toString();
        writeFileSync(file, Buffer.from('bbbbbbbbbb'));
        return [first, bytes.toString()];
      });
      assert.deepEqual(seen, ['aaaaaaaaaa', 'bbbbbbbbbb']);
    });

    it('keeps what the host writes to itself, and reads zeros once `use` settles', async () => {
      writeFileSync(path.join(dir, 'private'), Buffer.from('0123456789'));
      let kept: Buffer = Buffer.alloc(0);
      await views.view('private', 10, async (bytes) => {
        bytes.write('host');
        kept = bytes;
      });
      assert.deepEqual([...kept], new Array(10).fill(0), 'the plugin’s pages are no longer lent');
      assert.equal((await readSharedMemory(dir, 'private', 10, MAX)).toString(), '0123456789');
    });

    it('keeps one mapping for a region viewed frame after frame, showing each new frame', async () => {
      const file = path.join(dir, 'reused');
      const seen: { buffer: ArrayBufferLike; text: string }[] = [];
      for (const frame of ['frame-1...', 'frame-2...']) {
        writeFileSync(file, Buffer.from(frame));
        await views.view('reused', 10, (bytes) => seen.push({ buffer: bytes.buffer, text: bytes.toString() }));
      }
      assert.deepEqual(
        seen.map(({ text }) => text),
        ['frame-1...', 'frame-2...'],
      );
      assert.equal(seen[0]?.buffer, seen[1]?.buffer, 'the same mapping, mapped again');
      assert.deepEqual([...new Uint8Array(seen[1]?.buffer ?? [])], new Array(10).fill(0), 'released after each view');
    });

    it('maps a region anew where its size changed, or while it is still lent', async () => {
      const file = path.join(dir, 'resized');
      writeFileSync(file, Buffer.alloc(20, 1));
      const buffers: ArrayBufferLike[] = [];
      await views.view('resized', 10, (bytes) => buffers.push(bytes.buffer));
      await views.view('resized', 20, (bytes) => buffers.push(bytes.buffer));
      await views.view('resized', 20, (outer) =>
        views.view('resized', 20, (inner) => {
          buffers.push(outer.buffer, inner.buffer);
          assert.equal(inner[19], 1);
        }),
      );
      assert.notEqual(buffers[0], buffers[1], 'a new size, a new mapping');
      assert.equal(buffers[1], buffers[2], 'kept for the next view');
      assert.notEqual(buffers[2], buffers[3], 'two views at once, two mappings');
    });

    it('keeps the mappings of the eight regions viewed last, no more', async () => {
      const names = Array.from({ length: 9 }, (_, i) => `many-${i}`);
      const lent = async (name: string) => {
        writeFileSync(path.join(dir, name), Buffer.alloc(10, 1));
        return views.view(name, 10, (bytes) => bytes.buffer);
      };
      const first = await Promise.all(names.map(lent));
      assert.notEqual(await lent('many-0'), first[0], 'the oldest was let go');
      assert.equal(await lent('many-8'), first[8], 'the newest was kept');
    });

    it('survives the plugin shrinking the region: zeros are read, the view is refused, the next one is whole', async () => {
      const size = 4 * 1024 * 1024;
      const large = new SharedMemoryViews(dir, 8 * MAX);
      writeFileSync(path.join(dir, 'shrinking'), Buffer.alloc(size, 1));
      let tail: number[] = [];
      await assert.rejects(
        large.view('shrinking', size, (bytes) => {
          truncateSync(path.join(dir, 'shrinking'), 4096);
          tail = [...bytes.subarray(size - 3)]; // past the end of the file: a SIGBUS, answered
        }),
        (err: unknown) =>
          err instanceof SandboxError &&
          err.code === 'INVALID_REQUEST' &&
          /region 'shrinking' shrank below the 4194304 bytes announced while the host read it/.test(err.message),
      );
      assert.deepEqual(tail, [0, 0, 0]);
      writeFileSync(path.join(dir, 'shrinking'), Buffer.alloc(size, 2));
      tail = await large.view('shrinking', size, (bytes) => [...bytes.subarray(size - 3)]);
      assert.deepEqual(tail, [2, 2, 2], 'the kept mapping, mapped again, reads the whole region');
    });

    it('notices a region cut short where only a system call read it (no SIGBUS, just EFAULT)', async () => {
      const size = 1024 * 1024;
      writeFileSync(path.join(dir, 'syscall'), Buffer.alloc(size, 1));
      const sink = openSync('/dev/null', 'w');
      try {
        await assert.rejects(
          views.view('syscall', size, (bytes) => {
            truncateSync(path.join(dir, 'syscall'), 4096);
            writeSync(sink, bytes);
          }),
          /region 'syscall' shrank below the 1048576 bytes announced/,
        );
      } finally {
        closeSync(sink);
      }
    });

    it('passes on what `use` throws, and releases the region all the same', async () => {
      writeFileSync(path.join(dir, 'thrown'), Buffer.alloc(10, 1));
      let kept: Buffer = Buffer.alloc(0);
      await assert.rejects(
        views.view('thrown', 10, (bytes) => {
          kept = bytes;
          throw new Error('not a frame');
        }),
        /not a frame/,
      );
      assert.deepEqual([...kept], new Array(10).fill(0));
    });

    it('a copy that finds the region cut short says so, rather than returning less', async () => {
      writeFileSync(path.join(dir, 'cut'), Buffer.alloc(4096));
      const fd = openSync(path.join(dir, 'cut'), 'r+');
      // The region is checked at once, but read on the thread pool: with every pool thread
      // busy, the read surely runs after the plugin has cut the region short.
      const poolThreads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      const busy = Array.from({ length: poolThreads }, () => pbkdf2(Buffer.alloc(8), 'salt', 400_000, 64, 'sha512'));
      try {
        const reading = readSharedMemory(dir, 'cut', 4096, MAX);
        ftruncateSync(fd, 10);
        await assert.rejects(reading, /region 'cut' shrank below the 4096 bytes announced/);
      } finally {
        await Promise.all(busy);
        closeSync(fd);
      }
    });

    it('leaves any other SIGBUS as it was: fatal', () => {
      const addon = JSON.stringify(path.join(import.meta.dirname, 'native', 'shm-map.node'));
      const sent = spawnSync(process.execPath, ['-e', `require(${addon}); process.kill(process.pid, 'SIGBUS');`]);
      assert.equal(sent.signal, 'SIGBUS');
    });
  });
});
