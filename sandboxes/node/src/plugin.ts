import type { PluginAPI } from './plugin-api.ts';

export type PluginState = Record<string, unknown>;
/** A function the plugin exports for the host to call (e.g. `process_data`): JSON in; JSON out, or raw bytes when it returns a Uint8Array. */
export type ExportedFunction = (data: unknown) => unknown;

/**
 * Base class of a ClassTop plugin. The entry module's default export extends it:
 *
 * ```js
 * import { Plugin } from '@classtop/plugin-sdk';
 * export default class MyPlugin extends Plugin {
 *   async onEnable() { const courses = await this.api.getCourses(); }
 *   async onDisable() {}
 * }
 * ```
 */
export abstract class Plugin {
  /** The host API. */
  readonly api: PluginAPI;
  /** Kept across hot reloads: returned by onSave and handed back to onRestore. */
  state: PluginState = {};
  private readonly exported = new Map<string, ExportedFunction>();

  constructor(api: PluginAPI) {
    this.api = api;
  }

  /** Called when the plugin is enabled. */
  abstract onEnable(): Promise<void> | void;

  /** Called when the plugin is disabled (and before it is stopped). */
  abstract onDisable(): Promise<void> | void;

  /** Saves state before a hot reload. */
  onSave(): Promise<PluginState> | PluginState {
    return this.state;
  }

  /** Restores state after a hot reload, before onEnable. */
  onRestore(state: PluginState): Promise<void> | void {
    this.state = state;
  }

  /** Lets the host call `fn` by `name` (CallApi on the plugin's socket). */
  protected exportFunction(name: string, fn: ExportedFunction): void {
    // The host's health ping calls a name no plugin exports; answering it is not the plugin's job.
    if (name.startsWith('__classtop')) throw new Error(`'${name}' is reserved for the host`);
    this.exported.set(name, fn.bind(this));
  }

  /** @internal used by the runner. */
  exportedFunction(name: string): ExportedFunction | undefined {
    return this.exported.get(name);
  }
}
