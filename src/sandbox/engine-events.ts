import type { Logger } from '../logging/index.ts';
import type { DockerSandboxRuntime } from './docker-sandbox-runtime.ts';

/** How long a check or a subscription attempt may take before the engine counts as not answering. */
const ANSWER_TIMEOUT_MS = 2_000;
/** Checks in a row that must go unanswered before the engine counts as lost: one slow ping is not. */
const CHECKS_BEFORE_LOST = 2;
/** Re-subscription after a loss: the first wait, doubled after each refusal up to the cap. */
const RESUBSCRIBE_INITIAL_MS = 250;
const RESUBSCRIBE_MAX_MS = 5_000;

export interface EngineEventHandlers {
  /**
   * The engine went away: its event stream ended, or it refused a check. Called once per loss;
   * `onBack` is not called before what it returns has settled.
   */
  onLost: (reason: string) => Promise<void>;
  /** The engine answers again after a loss (its events are followed again). */
  onBack: () => Promise<void>;
}

/**
 * Follows a Docker engine's event stream to notice at once when the engine itself goes away (a
 * restart, a crash, a stop), rather than after several missed health pings: the stream of a live
 * engine never ends. After a loss it subscribes again with a capped backoff until the engine
 * answers, then reports it back.
 */
export class EngineEvents {
  private readonly runtime: DockerSandboxRuntime;
  private readonly log: Logger;
  private readonly socketPath: string;
  private readonly orchestratorId: string;
  private handlers: EngineEventHandlers | undefined;
  private stream: NodeJS.ReadableStream | undefined;
  private lost = false;
  /** The loss being handled; the engine's return is reported only after it. */
  private lossHandled: Promise<void> = Promise.resolve();
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(log: Logger, runtime: DockerSandboxRuntime, socketPath: string, orchestratorId: string) {
    this.runtime = runtime;
    this.socketPath = socketPath;
    this.orchestratorId = orchestratorId;
    this.log = log.child({ component: 'engine-events', dockerSocket: socketPath });
  }

  /** Subscribes; throws when the engine does not answer. */
  async start(handlers: EngineEventHandlers): Promise<void> {
    this.handlers = handlers;
    await this.subscribe();
  }

  /**
   * Whether the engine answers now, on a new connection. A stopping engine first stops every
   * container and only then ends its event streams, but it refuses new connections at once: a
   * container exit for which this check fails is the engine's doing, and is reported as its loss.
   */
  async confirm(): Promise<boolean> {
    if (this.stopped) return true;
    if (this.lost) return false;
    let failure: unknown;
    for (let check = 0; check < CHECKS_BEFORE_LOST; check++) {
      try {
        await this.runtime.answers(ANSWER_TIMEOUT_MS);
        return true;
      } catch (err) {
        failure = err;
      }
    }
    this.declareLost(`the Docker engine at ${this.socketPath} does not answer (${describe(failure)})`);
    return false;
  }

  /** Stops following and retrying; idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.destroyStream();
  }

  private async subscribe(): Promise<void> {
    const stream = await this.runtime.containerEvents(this.orchestratorId, ANSWER_TIMEOUT_MS);
    if (this.stopped) {
      destroy(stream);
      return;
    }
    this.stream = stream;
    let error = 'it ended';
    stream.on('error', (err: unknown) => (error = describe(err)));
    stream.once('close', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.declareLost(`the Docker engine's event stream at ${this.socketPath} ended (${error})`);
    });
    stream.resume(); // only the stream's end matters here; the container's own wait reports exits
    this.log.info('following the engine events');
  }

  private declareLost(reason: string): void {
    if (this.lost || this.stopped) return;
    this.lost = true;
    this.destroyStream();
    this.log.error({ reason }, 'Docker engine lost');
    this.lossHandled = (this.handlers?.onLost(reason) ?? Promise.resolve()).catch((err: unknown) =>
      this.log.error({ err }, 'handling the lost engine failed'),
    );
    this.retry(RESUBSCRIBE_INITIAL_MS);
  }

  private retry(delayMs: number): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.subscribe().then(
        async () => {
          await this.lossHandled;
          if (this.stopped) return;
          this.lost = false;
          this.log.info('Docker engine answers again');
          await this.handlers
            ?.onBack()
            .catch((err: unknown) => this.log.error({ err }, 'handling the engine coming back failed'));
        },
        (err: unknown) => {
          this.log.debug({ err, delayMs }, 'Docker engine still gone');
          this.retry(Math.min(delayMs * 2, RESUBSCRIBE_MAX_MS));
        },
      );
    }, delayMs);
    this.retryTimer.unref();
  }

  private destroyStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) destroy(stream);
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as unknown as { destroy(): void }).destroy();
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
