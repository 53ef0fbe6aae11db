import { SandboxError } from '../errors/index.ts';
import type { PluginManifest } from '../manifest/index.ts';
import { readSharedMemory } from '../sandbox/index.ts';
import type { VerifiedPlugin } from '../trust/index.ts';
import type { ExitInfo, ExitListener, Launched } from './instance-launch.ts';
import type { TeardownSteps } from './teardown-steps.ts';
import { gotNoAnswer, PluginCrash } from './plugin-crash.ts';
import { PluginStartFailure } from './plugin-start-failure.ts';

const LIFECYCLE_TIMEOUT_MS = 10_000;
/**
 * How long a Lifecycle call that got no answer waits for the container's exit (the engine's event,
 * then up to 2 s for its last output) before taking it for a plugin that is alive.
 */
const EXIT_WAIT_MS = 5_000;
const MIB = 1024 * 1024;
/** The name of the health ping; no plugin exports it. */
const HEALTH_FUNCTION = '__classtop_health__';

export interface StartedParts {
  instanceId: string;
  manifest: PluginManifest;
  verified: VerifiedPlugin;
  teardown: TeardownSteps;
  exits: ExitListener;
  launched: Launched;
}

/**
 * A plugin instance whose container runs and has registered: its verified snapshot, container,
 * gateway and the client the host uses to reach it. The steps are separate (enable, save, disable,
 * drain, remove) so that a hot reload can interleave two instances.
 */
export class StartedPluginInstance {
  readonly instanceId: string;
  readonly manifest: PluginManifest;
  readonly verified: VerifiedPlugin;
  readonly containerId: string;
  /** The protocol version its SDK stated at Register; null when it stated none. */
  readonly sdkProtocolVersion: string | null;
  private readonly parts: Launched;
  private readonly teardown: TeardownSteps;
  private readonly exits: ExitListener;
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(started: StartedParts) {
    this.instanceId = started.instanceId;
    this.manifest = started.manifest;
    this.verified = started.verified;
    this.containerId = started.launched.containerId;
    this.sdkProtocolVersion = started.launched.sdkProtocolVersion;
    this.parts = started.launched;
    this.teardown = started.teardown;
    this.exits = started.exits;
  }

  /** Who signed it, for the LOADED transition's message. */
  get signerDescription(): string {
    const signer = this.verified.signer;
    return signer ? `signed by ${signer.subject}` : 'unsigned, allowed by the tenant';
  }

  /** Called when the container exits while nobody asked it to. */
  get onUnexpectedExit(): ((exit: ExitInfo) => void) | undefined {
    return this.exits.onUnexpectedExit;
  }

  set onUnexpectedExit(listener: ((exit: ExitInfo) => void) | undefined) {
    this.exits.onUnexpectedExit = listener;
  }

  /**
   * Lifecycle ENABLE: onRestore(state) when there is one, then onEnable. Its process dying during
   * the call is a PluginCrash (exit code, signal, last output), its refusal a PluginStartFailure.
   */
  async enable(state?: Buffer): Promise<void> {
    const client = this.client();
    try {
      await client.lifecycle('ENABLE', this.manifest.ipcTimeoutMs, state);
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      const exit = gotNoAnswer(err) ? await this.exitWithin(EXIT_WAIT_MS) : null;
      if (exit) throw new PluginCrash(this.manifest.id, 'ENABLE', exit, { cause: err });
      throw new PluginStartFailure(err.code, err.message, { cause: err });
    }
  }

  /**
   * Lifecycle RELOAD: the plugin's onSave, as bytes to hand to the next version. Its failure, as
   * ENABLE's, is the plugin's: a job that retried the same reload would meet it again.
   */
  async save(): Promise<Buffer> {
    try {
      return (await this.client().lifecycle('RELOAD', this.manifest.ipcTimeoutMs)).saved_state;
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      throw new PluginStartFailure(err.code, err.message, { cause: err });
    }
  }

  /** Lifecycle DISABLE: onDisable. */
  async disable(): Promise<void> {
    await this.client().lifecycle('DISABLE', LIFECYCLE_TIMEOUT_MS);
  }

  /** Settles when every host → plugin call in progress has finished (or after `timeoutMs`). */
  drain(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Calls a function the plugin exports, counted so that a reload can wait for it. */
  async callFunction(name: string, payload: Buffer, deadlineMs: number): Promise<Buffer> {
    this.inFlight++;
    try {
      return (await this.client().callFunction(name, payload, Math.max(1, deadlineMs - Date.now()))).result;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.drainWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /** Reads a region the plugin announced (the host side of shm.read). */
  async readSharedMemory(name: string, into?: Buffer): Promise<Buffer> {
    const size = this.parts.regions.get(name);
    if (size === undefined) {
      throw new SandboxError('NOT_FOUND', `no shared memory region '${name}' was announced by this plugin`);
    }
    return readSharedMemory(this.parts.dirs.shmDir, name, size, this.manifest.sandbox.shmMb * MIB, into);
  }

  /**
   * Whether the plugin answers: any reply to a call of a reserved name (normally "no such
   * function") proves its process and event loop are alive; a timeout or a dead socket does not.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await this.client().callFunction(HEALTH_FUNCTION, Buffer.from('null'), timeoutMs);
      return true;
    } catch (err) {
      return err instanceof SandboxError && err.code === 'NOT_FOUND';
    }
  }

  logTail(): string[] {
    return this.parts.output.lines();
  }

  /** Asks the plugin to exit (SHUTDOWN), then removes container, gateway, sockets, shm, snapshot. Idempotent. */
  remove(): Promise<void> {
    return this.teardown.run();
  }

  /** The container's exit if it comes within `timeoutMs`; null if not (or the engine lost track of it). */
  private async exitWithin(timeoutMs: number): Promise<ExitInfo | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    try {
      return await Promise.race([this.parts.exit.catch(() => null), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The plugin's client, while the instance is not being removed. */
  private client() {
    if (this.teardown.begun) throw new SandboxError('NOT_FOUND', `instance ${this.instanceId} is not running`);
    return this.parts.client;
  }
}
