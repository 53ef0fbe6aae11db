import { SandboxError } from '../errors/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import type { CallGate } from './call-gate.ts';
import type { PluginInstance } from './plugin-instance.ts';
import { recordedError, type PluginRecord } from './plugin-record.ts';
import type { StartedPluginInstance } from './started-plugin-instance.ts';

/** How long the old version's calls in progress may take to finish before it is removed. */
const DRAIN_TIMEOUT_MS = 10_000;

export type Progress = (step: string, percent: number) => Promise<void>;

/** What a hot reload sees of and does to its plugin. */
export interface Reloadable {
  readonly pluginId: string;
  readonly record: PluginRecord;
  /** Holds host → plugin calls during the hand-over. */
  readonly gate: CallGate;
  newInstance(source: string): PluginInstance;
  /** Stops taking calls on the old instance (it keeps running and keeps its state). */
  pause(): void;
  /** Takes calls on `instance` again (a failed hand-over re-enables the old version). */
  resume(instance: StartedPluginInstance): void;
  /** `next` serves from now on, supervised; `replaced` is no longer watched. */
  install(next: StartedPluginInstance, replaced: StartedPluginInstance): void;
  /** The reload succeeded: `bundle` (when given) and its manifest are the plugin's from now on. */
  adopt(bundle: string | undefined, manifest: PluginManifest): void;
}

/**
 * Hot reload of a serving plugin: the new version is verified, started and registered first; then
 * calls are held, the old instance saves its state, is disabled and drained; the new one restores
 * the state and is enabled; held calls go to it; the old container is removed. If the new version
 * fails, the old one keeps serving with its state and the job fails with the reason.
 */
export async function hotReload(
  plugin: Reloadable,
  old: StartedPluginInstance,
  source: string,
  progress: Progress,
  bundle?: string,
): Promise<{ from: string | null; to: string | null }> {
  const from = old.manifest.version;
  await plugin.record.transition('RELOADING', `reload to ${bundle ?? 'the same bundle'}`);
  await progress('starting the new version', 20);
  const next = await startNext(plugin, bundle ?? source);
  plugin.gate.close();
  try {
    await handOver(plugin, old, next, progress);
    await plugin.record.transition('INITIALIZED', 'new version restored and enabled');
    await plugin.record.transition('ENABLED', `reloaded ${from} → ${next.manifest.version}`, {
      version: next.manifest.version,
    });
    plugin.adopt(bundle, next.manifest);
  } finally {
    plugin.gate.open();
  }
  await progress('removing the old version', 90);
  await old.remove();
  await progress('reloaded', 100);
  return { from, to: next.manifest.version };
}

/** Starts the new version beside the old one; if it fails, the old one goes on serving. */
async function startNext(plugin: Reloadable, source: string): Promise<StartedPluginInstance> {
  let next: StartedPluginInstance | undefined;
  try {
    next = await plugin.newInstance(source).start();
    if (next.manifest.id !== plugin.pluginId) {
      throw new SandboxError('INVALID_REQUEST', `the new bundle is ${next.manifest.id}, not ${plugin.pluginId}`);
    }
    return next;
  } catch (err) {
    await next?.remove();
    await plugin.record.transition('ENABLED', 'reload failed; the old version keeps serving', {
      error: recordedError(err, null),
    });
    throw err;
  }
}

/**
 * Moves the state from `old` to `next` while calls are held. Whatever step fails, `next` is
 * removed and `old` serves again with the state it still holds in memory.
 */
async function handOver(
  plugin: Reloadable,
  old: StartedPluginInstance,
  next: StartedPluginInstance,
  progress: Progress,
): Promise<void> {
  await progress('saving the old version’s state', 45);
  let state: Buffer;
  try {
    state = await old.save();
  } catch (err) {
    // Nothing was paused yet: the old version never stopped serving.
    await next.remove();
    await plugin.record.transition('ENABLED', 'reload failed: the old version could not save its state', {
      error: recordedError(err, null),
    });
    throw err;
  }
  await progress('disabling and draining the old version', 60);
  plugin.pause();
  try {
    await old.disable();
    await old.drain(DRAIN_TIMEOUT_MS);
    await progress('restoring the state into the new version', 75);
    await next.enable(state);
  } catch (err) {
    await next.remove();
    await old.enable();
    plugin.resume(old);
    await plugin.record.transition('ENABLED', 'reload failed; the old version was enabled again', {
      error: recordedError(err, null),
    });
    throw err;
  }
  plugin.install(next, old);
}
