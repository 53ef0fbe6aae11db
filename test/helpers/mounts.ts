import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Mount points at or below `dir` (from /proc/self/mounts), deepest first. */
export function mountsUnder(dir: string): string[] {
  const root = path.resolve(dir);
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((field) => field.replace(/\\040/g, ' '))
    .filter((point) => point === root || point.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything at or below `dir`, deepest first, so that the directory can be removed:
 * what a killed process (an orchestrator's tmpfs directories, an engine's overlays) left there.
 */
export function unmountUnder(dir: string): void {
  for (const point of mountsUnder(dir)) {
    try {
      execFileSync('umount', [point], { stdio: 'ignore' });
    } catch {
      try {
        execFileSync('umount', ['-l', point], { stdio: 'ignore' }); // busy: detach it now, freed when unused
      } catch {
        // gone already with a parent: the check below says what remains
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`still mounted under ${dir}, not removing it: ${left.join(', ')}`);
}
