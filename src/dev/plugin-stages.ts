import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SIGNED_MANIFEST_FILE } from '../trust/index.ts';
import { isWatchedChange } from './plugin-watcher.ts';

const STAGE_PREFIX = 'plugin-';
/** Never part of what runs: version control and the runtimes' caches. */
const NOT_STAGED = new Set(['.git', '__pycache__', '.mypy_cache', '.pytest_cache']);

/**
 * The copies of the plugin a dev session hands to the orchestrator, one per save, under the
 * session's directory. A copy is taken at one moment, so an edit in progress cannot change what
 * is being verified; the signature file is left out, because a dev session runs the plugin
 * unsigned (an edited signed plugin would otherwise fail as tampered). A build's output (build/)
 * is copied: it is a C++ plugin's entry.
 */
export class PluginStages {
  private readonly source: string;
  private readonly root: string;
  private generation = 0;

  constructor(source: string, root: string) {
    this.source = source;
    this.root = root;
  }

  /** Where the next copy will be (the session's config names the first before it is taken). */
  nextPath(): string {
    return path.join(this.root, `${STAGE_PREFIX}${this.generation + 1}`);
  }

  /** Copies the plugin as it is now; returns the copy's directory. */
  take(): string {
    const target = this.nextPath();
    this.generation += 1;
    cpSync(this.source, target, {
      recursive: true,
      filter: (from) => {
        const relative = path.relative(this.source, from);
        if (relative === '') return true;
        if (relative === SIGNED_MANIFEST_FILE) return false;
        if (relative.split(path.sep).some((part) => NOT_STAGED.has(part))) return false;
        // Editor swap and backup files are not the plugin's (build/ is, so it is not asked about).
        return relative.split(path.sep)[0] === 'build' || isWatchedChange(relative);
      },
    });
    return target;
  }

  /** Removes every copy but `keep` (the one the plugin runs from, or would restart from). */
  prune(keep: string | undefined): void {
    for (const name of readdirSync(this.root)) {
      const dir = path.join(this.root, name);
      if (name.startsWith(STAGE_PREFIX) && dir !== keep) rmSync(dir, { recursive: true, force: true });
    }
  }
}
