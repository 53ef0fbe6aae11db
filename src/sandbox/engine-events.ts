import { Agent } from 'node:http';
import Docker from 'dockerode';
import type { Logger } from '../logging/index.ts';
import { LABELS } from './labels.ts';

/** How long a check or a subscription attempt may take before the engine counts as not answering. */
const ANSWER_TIMEOUT_MS = 2_000;
/** Re-subscription after a loss: the first wait, doubled after each refusal up to the cap. */
const RESUBSCRIBE_INITIAL_MS = 250;
const RESUBSCRIBE_MAX_MS = 5_000;

export interface EngineEventHandlers {
  /** The engine went away: its event stream ended, or it refused a check. Called once per loss. */
  onLost: (reason: string) => void;
  /** The engine answers again after a loss (its events are followed again). */
  onBack: () => void;
}

/**
 * Follows a Docker engine's event stream to notice at once when the engine itself goes away (a
 * restart, a crash, a stop), rather than after several missed health pings: the stream of a live
 * engine never ends. After a loss it subscribes again with a capped backoff until the engine
 * answers, then reports it back.
 */
export class EngineEvents {
  private readonly docker: Docker;
  private readonly log: Logger;
  private readonly socketPath: string;
  private readonly orchestratorId: string;
  private handlers: EngineEventHandlers | undefined;
  private stream: NodeJS.ReadableStream | undefined;
  private lost = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(log: Logger, socketPath: string, orchestratorId: string) {
    // No client timeout: it would end the (often quiet) event stream of a live engine. A new
    // connection per request: a stopping engine still serves the connections it has open.
    // (docker-modem takes `agent`; dockerode's types leave it out.)
    const options: Docker.DockerOptions & { agent: Agent } = { socketPath, agent: new Agent({ keepAlive: false }) };
    this.docker = new Docker(options);
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
    try {
      await withTimeout(this.docker.ping(), 'ping');
      return true;
    } catch (err) {
      this.declareLost(`the Docker engine at ${this.socketPath} does not answer (${describe(err)})`);
      return false;
    }
  }

  /** Stops following and retrying; idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.destroyStream();
  }

  private async subscribe(): Promise<void> {
    const pending = this.docker.getEvents({
      filters: {
        type: ['container'],
        label: [`${LABELS.managed}=true`, `${LABELS.orchestrator}=${this.orchestratorId}`],
      },
    });
    const stream = await withTimeout(pending, 'event subscription').catch((err: unknown) => {
      void pending.then(destroy, () => undefined); // a late answer must not leave a stream open
      throw err;
    });
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
    this.handlers?.onLost(reason);
    this.retry(RESUBSCRIBE_INITIAL_MS);
  }

  private retry(delayMs: number): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.subscribe().then(
        () => {
          if (this.stopped) return;
          this.lost = false;
          this.log.info('Docker engine answers again');
          this.handlers?.onBack();
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

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer to the ${what} within ${ANSWER_TIMEOUT_MS} ms`)),
      ANSWER_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
