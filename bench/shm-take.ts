/**
 * Where a host consumer's take of a 1920×1080×3 region goes (the README's C++ frame figures):
 * the same check of a byte of every page (bench/frame-check.ts) through SharedMemoryViews.view,
 * which maps the region per view and releases it to zero pages after; the view alone, without
 * touching the bytes; and the check on the same bytes in a buffer the host owns (pages mapped
 * long ago, as a mapping kept live between views would be).
 * Run: node dist/bench/shm-take.js [DIR] [--views 300]   (DIR: a tmpfs, e.g. one mounted with
 * huge=within_size as plugin shm directories are; default /dev/shm)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SharedMemoryViews } from '../src/sandbox/shared-memory-region.ts';
import { checkFrame, FRAME_BYTES } from './frame-check.ts';
import { report } from './report.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { views: { type: 'string', default: '300' }, json: { type: 'string' } },
});
const views = Number(values.views);
const dir = mkdtempSync(path.join(positionals[0] ?? '/dev/shm', 'ct-shm-take-'));
try {
  const frame = Buffer.allocUnsafe(FRAME_BYTES);
  for (let i = 0; i < FRAME_BYTES; i++) frame[i] = (i * 7 + 1) % 251;
  writeFileSync(path.join(dir, 'frame'), frame);
  const regions = new SharedMemoryViews(dir, FRAME_BYTES);
  const ways: Record<string, () => unknown> = {
    'view + check (mapped per view)': () => regions.view('frame', FRAME_BYTES, (bytes) => checkFrame(bytes)),
    'view alone (map, release)': () => regions.view('frame', FRAME_BYTES, () => undefined),
    'check alone, a buffer mapped long ago': () => checkFrame(frame),
  };
  const rows = [];
  for (const [way, take] of Object.entries(ways)) {
    await take();
    const started = performance.now();
    for (let i = 0; i < views; i++) await take();
    rows.push({ way, views, microsecondsEach: ((performance.now() - started) / views) * 1000 });
  }
  report(`taking a ${FRAME_BYTES}-byte region in ${positionals[0] ?? '/dev/shm'}`, rows, rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
