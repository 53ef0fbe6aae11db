import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdminServer } from '../admin/index.ts';
import { buildPlugin } from '../authoring/index.ts';
import type { SandboxConfig } from '../config/index.ts';
import { SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { seedSampleSchedule } from '../host/index.ts';
import { loadManifest, type PluginManifest } from '../manifest/index.ts';
import { Orchestrator } from '../orchestrator/index.ts';
import { connectRedis, EmbeddedRedis } from '../redis/index.ts';
import { DEV_TENANT, devConfig } from './dev-config.ts';
import { createDevLogger } from './dev-log.ts';
import { PluginStages } from './plugin-stages.ts';
import { PluginWatcher } from './plugin-watcher.ts';

/** How long a reload job may take beyond the plugin's start timeout (saving, draining, restoring). */
const RELOAD_SLACK_MS = 30_000;

export interface DevOptions {
  /** The plugin directory the author edits. */
  directory: string;
  /** An operator's config lending the sandbox profile (see dev-config.ts). */
  lentFrom: string | undefined;
  adminListen: string;
  /** The C++ builder image (`classtop-sandbox build --image`). */
  builderImage: string;
  /** The plugin's logs, one readable line per record. */
  logs: NodeJS.WritableStream;
  /** What the session says: the address, each reload and each error. */
  messages: NodeJS.WritableStream;
}

/**
 * One plugin under development: its copies (plugin-stages.ts), the session's own Redis seeded
 * with a small schedule, an orchestrator with the built-in host and the `dev` tenant, and the
 * admin API. `start()` runs the plugin; `apply()` takes the directory as it is now to the running
 * plugin through the orchestrator's own hot reload, and a version that fails keeps the last good
 * one serving. The caller (the CLI) owns the signals and the shutdown.
 */
export class DevSession {
  readonly config: SandboxConfig;
  readonly log: Logger;
  readonly orchestrator: Orchestrator;
  readonly admin: AdminServer;
  readonly pluginId: string;
  private readonly options: DevOptions;
  private readonly root: string;
  private readonly stages: PluginStages;
  private readonly aborted = new AbortController();
  private redis: EmbeddedRedis | undefined;
  private watcher: PluginWatcher | undefined;

  private constructor(options: DevOptions, root: string, stages: PluginStages, config: SandboxConfig, id: string) {
    this.options = options;
    this.root = root;
    this.stages = stages;
    this.config = config;
    this.pluginId = id;
    this.log = createDevLogger(config.logLevel, options.logs);
    this.orchestrator = new Orchestrator(config, this.log);
    this.admin = new AdminServer(this.orchestrator, this.log);
  }

  /**
   * Reads the plugin (building a C++ one), takes its first copy and writes the session's config.
   * A plugin.yaml that cannot be read, or a failed build, ends it here: there is nothing to run
   * yet. `signal` interrupts the build.
   */
  static async open(options: DevOptions, signal: AbortSignal): Promise<DevSession> {
    const root = mkdtempSync(path.join(tmpdir(), 'classtop-dev-'));
    try {
      const stages = new PluginStages(options.directory, root);
      const config = devConfig({
        lentFrom: options.lentFrom,
        root,
        plugin: stages.nextPath(),
        adminListen: options.adminListen,
      });
      const manifest = readManifest(options.directory, config.limits);
      await buildIfCpp(manifest, options, config.dockerSocket, signal);
      stages.take();
      return new DevSession(options, root, stages, config, manifest.id);
    } catch (err) {
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Starts Redis (seeded), the orchestrator with the plugin, and the admin API; returns its port
   * (undefined when the session was stopped during start-up).
   */
  async start(): Promise<number | undefined> {
    const dataDir = path.join(this.root, 'redis');
    mkdirSync(dataDir, { mode: 0o700 });
    this.redis = await EmbeddedRedis.start(dataDir);
    const client = connectRedis(this.redis.url, this.log);
    try {
      await client.connect();
      const seeded = await seedSampleSchedule(client, DEV_TENANT);
      this.say(`the built-in host has ${seeded.courses} courses and ${seeded.entries} classes a week`);
    } finally {
      client.disconnect();
    }
    await this.orchestrator.start(this.redis.url);
    if (this.aborted.signal.aborted) return undefined; // stopped during start-up: no admin API, no report
    const { listen } = this.config.admin;
    const port = await this.admin.listen(listen).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      throw new SandboxError(
        'INVALID_REQUEST',
        `the admin API cannot listen on ${listen} (${reason}); pick another --admin port, or leave --admin out for a free one`,
        { cause: err },
      );
    });
    const status = this.orchestrator.find(DEV_TENANT, this.pluginId).status();
    if (status.state === 'ENABLED') this.say(`${this.pluginId} ${status.version} is running`);
    else
      this.sayError(
        `${this.pluginId} did not start:\n${indent(status.lastError ?? status.state)}\nfix it and save: the session reloads it`,
      );
    return port;
  }

  /**
   * Takes the directory as it is now to the plugin: validates plugin.yaml, builds a C++ plugin,
   * copies it and reloads (on_save → on_restore). Whatever fails is said, and changes nothing.
   */
  async apply(files: readonly string[]): Promise<void> {
    this.say(`changed: ${files.join(', ')}; reloading`);
    const plugin = this.orchestrator.find(DEV_TENANT, this.pluginId);
    const before = plugin.status();
    try {
      const manifest = readManifest(this.options.directory, this.config.limits);
      if (manifest.id !== this.pluginId) {
        throw new SandboxError(
          'INVALID_REQUEST',
          `plugin.yaml's id changed from ${this.pluginId} to ${manifest.id}; a dev session runs one plugin: restart it`,
        );
      }
      await buildIfCpp(manifest, this.options, this.config.dockerSocket, this.aborted.signal);
      const bundle = this.stages.take();
      const job = await this.orchestrator.submit({
        action: 'reload',
        tenant: DEV_TENANT,
        pluginId: this.pluginId,
        bundle,
        cause: 'dev: saved',
      });
      await this.orchestrator.waitForJob(job, this.config.startTimeoutMs + RELOAD_SLACK_MS);
      const now = plugin.status();
      this.say(
        before.state === 'ENABLED'
          ? `reloaded ${before.version} → ${now.version}, its state carried over (on_save → on_restore)`
          : `${this.pluginId} ${now.version} is running`,
      );
    } catch (err) {
      if (this.aborted.signal.aborted) return;
      const kept =
        before.state === 'ENABLED'
          ? `the last good version (${before.version}) keeps running`
          : 'the plugin is not running';
      const reason = err instanceof Error ? err.message : String(err);
      this.sayError(`this save does not run; ${kept}:\n${indent(reason)}\nfix it and save again`);
    } finally {
      this.stages.prune(plugin.status().directory);
    }
  }

  /** Applies each burst of saves to the plugin, one at a time (plugin-watcher.ts). */
  watch(): void {
    if (this.aborted.signal.aborted) return;
    this.watcher = new PluginWatcher(
      this.options.directory,
      (files) => this.apply(files),
      (err) => this.sayError(`watching ${this.options.directory} failed: ${err.message}`),
    );
  }

  /** Stops watching and any C++ build in progress; a reload in progress is left to the orchestrator's stop. */
  interrupt(): void {
    this.aborted.abort();
    this.watcher?.close();
  }

  /** Settles once no save is being applied. */
  idle(): Promise<void> {
    return this.watcher?.idle() ?? Promise.resolve();
  }

  async stopRedis(): Promise<void> {
    await this.redis?.stop();
  }

  /** Removes the session's directory (config, Redis data, copies) and its shm directory. */
  removeFiles(): void {
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.config.shmDir, { recursive: true, force: true });
  }

  private say(text: string): void {
    this.options.messages.write(`classtop-sandbox dev: ${text}\n`);
  }

  private sayError(text: string): void {
    this.options.messages.write(`classtop-sandbox dev: ERROR: ${text}\n`);
  }
}

/** Compiles a C++ plugin in the builder image (its output on the messages stream); others have nothing to build. */
async function buildIfCpp(
  manifest: PluginManifest,
  options: DevOptions,
  dockerSocket: string,
  signal: AbortSignal,
): Promise<void> {
  if (manifest.runtime !== 'cpp') return;
  await buildPlugin(manifest, {
    image: options.builderImage,
    dockerSocket,
    output: options.messages,
    signal,
  });
}

/** plugin.yaml checked as `validate` does; a C++ plugin's entry may be missing until it is built. */
function readManifest(directory: string, limits: SandboxConfig['limits']): PluginManifest {
  const manifest = loadManifest(directory, limits, { entryMayBeMissing: true });
  return manifest.runtime === 'cpp' ? manifest : loadManifest(directory, limits);
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}
