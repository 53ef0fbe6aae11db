import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** Saves closer together than this are one change: editors write a file in several steps. */
export const DEBOUNCE_MS = 200;

/**
 * Directories whose changes are not the author's edits: a C++ build's output (the rebuild writes
 * it), version control, and caches the runtimes write.
 */
const IGNORED_DIRECTORIES = new Set(['build', '.git', '__pycache__', '.mypy_cache', '.pytest_cache']);
/**
 * Temporary and backup files of editors and tools: vim's swap files and its 4913 probe, emacs
 * locks and backups, JetBrains' safe-write copies, `sed -i`'s temporary file, and the like.
 */
const EDITOR_TEMP = [
  /\.sw[a-px]$/,
  /~$/,
  /^\.#/,
  /^#.*#$/,
  /^4913$/,
  /\.tmp$/,
  /___jb_(tmp|old)___$/,
  /^sed[A-Za-z0-9]{6}$/,
  /^\.DS_Store$/,
  /\.kate-swp$/,
];

/** Whether a change of `relative` (a path inside the plugin directory) is an edit worth a reload. */
export function isWatchedChange(relative: string): boolean {
  const parts = relative.split(path.sep).filter(Boolean);
  const name = parts.at(-1);
  if (!name) return false;
  if (parts.some((part) => IGNORED_DIRECTORIES.has(part))) return false;
  return !EDITOR_TEMP.some((pattern) => pattern.test(name));
}

/**
 * Watches a plugin directory, recursively, and calls `onChange` once per burst of edits
 * (`DEBOUNCE_MS` after the last one) with the files that changed; never while an earlier call is
 * still running: edits made meanwhile are handed over together when it is done.
 */
export class PluginWatcher {
  private readonly watcher: FSWatcher;
  private readonly onChange: (files: string[]) => Promise<void>;
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(directory: string, onChange: (files: string[]) => Promise<void>, onError: (err: Error) => void) {
    this.onChange = onChange;
    this.watcher = watch(directory, { recursive: true }, (_event, file) => {
      if (file && isWatchedChange(file.toString())) this.note(file.toString());
    });
    this.watcher.on('error', onError);
  }

  /** Stops watching for good; `idle()` then waits for a call in progress. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher.close();
  }

  /** Settles when no call of `onChange` is running. */
  async idle(): Promise<void> {
    await this.running;
  }

  private note(file: string): void {
    this.changed.add(file);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.deliver(), DEBOUNCE_MS);
  }

  private async deliver(): Promise<void> {
    if (this.running) return; // the running call's loop takes these edits next
    this.running = (async () => {
      while (this.changed.size > 0 && !this.closed) {
        const files = [...this.changed].sort();
        this.changed.clear();
        await this.onChange(files).catch(() => undefined); // onChange reports its own failures
      }
    })();
    await this.running;
    this.running = undefined;
  }
}
