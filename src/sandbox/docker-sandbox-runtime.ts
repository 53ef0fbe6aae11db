import { Agent } from 'node:http';
import Docker from 'dockerode';
import { SandboxError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { followOutput, type FollowedOutput, type OutputListener } from './container-output.ts';
import { LABELS } from './labels.ts';
import type { HealthTimings, SandboxSpec } from './sandbox-spec.ts';

const STOP_TIMEOUT_S = 5;
const PING_TIMEOUT_MS = 5_000;
/** No answer on a request for this long fails it (but see `streams`). */
const REQUEST_IDLE_TIMEOUT_MS = 60_000;
const NS_PER_MS = 1_000_000;

/** What a running container uses (docker stats). */
export interface ContainerUsage {
  memoryBytes: number;
  memoryPeakBytes: number | null;
  pids: number;
}

export interface StartedSandbox {
  id: string;
  name: string;
  /** Its stdout and stderr, followed from before its first instruction. */
  output: FollowedOutput;
}

export interface ManagedContainer {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/**
 * Plugin containers on a Docker engine. The only module that imports dockerode: it turns a
 * SandboxSpec into a container with every control of the security bar, and finds, follows and
 * removes the containers it made.
 */
export class DockerSandboxRuntime {
  private readonly docker: Docker;
  /**
   * For requests that stay open as long as the container runs (attach, wait): without the idle
   * timeout, which would cut them after a minute of silence, losing the output of a plugin that
   * was quiet for a minute and the exit of one that crashed after it.
   */
  private readonly streams: Docker;
  /**
   * A new connection per request and no idle timeout: for the engine's event stream (often
   * quiet) and for checks of whether the engine answers now, since a stopping engine still serves
   * the connections it has open. (docker-modem takes `agent`; dockerode's types leave it out.)
   */
  private readonly fresh: Docker;
  private readonly log: Logger;
  private readonly socketPath: string;

  constructor(log: Logger, socketPath = '/var/run/docker.sock') {
    this.socketPath = socketPath;
    this.docker = new Docker({ socketPath, timeout: REQUEST_IDLE_TIMEOUT_MS });
    this.streams = new Docker({ socketPath });
    const fresh: Docker.DockerOptions & { agent: Agent } = { socketPath, agent: new Agent({ keepAlive: false }) };
    this.fresh = new Docker(fresh);
    this.log = log.child({ component: 'docker' });
  }

  /** Settles if the engine answers a ping on a new connection within `timeoutMs`; rejects if not. */
  answers(timeoutMs: number): Promise<void> {
    return withTimeout(
      this.fresh.ping().then(() => undefined),
      timeoutMs,
      'ping',
    );
  }

  /** The engine's stream of events about the containers orchestrator `orchestratorId` made. */
  containerEvents(orchestratorId: string, timeoutMs: number): Promise<NodeJS.ReadableStream> {
    const pending = this.fresh.getEvents({
      filters: {
        type: ['container'],
        label: [`${LABELS.managed}=true`, `${LABELS.orchestrator}=${orchestratorId}`],
      },
    });
    return withTimeout(pending, timeoutMs, 'event subscription').catch((err: unknown) => {
      // A late answer must not leave a stream open.
      void pending.then(
        (stream) => (stream as unknown as { destroy(): void }).destroy(),
        () => undefined,
      );
      throw err;
    });
  }

  /** Throws with how to install or start an engine when none answers. */
  async ping(): Promise<void> {
    try {
      await withTimeout(this.docker.ping(), PING_TIMEOUT_MS, 'ping');
    } catch (err) {
      throw new SandboxError(
        'INTERNAL_ERROR',
        `no Docker engine answers at ${this.socketPath} (${(err as Error).message}). Install one with ` +
          '`apt-get install docker.io` and start it with `dockerd &` (or run scripts/setup.sh as root)',
        { cause: err },
      );
    }
  }

  /** The image's id, so containers are pinned to exactly what was resolved now. */
  async resolveImage(reference: string): Promise<string> {
    try {
      const info = await this.docker.getImage(reference).inspect();
      return info.Id;
    } catch (err) {
      throw new SandboxError('NOT_FOUND', `sandbox image ${reference} is not built; run scripts/build-images.sh`, {
        cause: err,
      });
    }
  }

  /** Creates the container, attaches to its output (so not a line is missed), then starts it. */
  async start(spec: SandboxSpec, onOutput: OutputListener): Promise<StartedSandbox> {
    const container = await this.docker.createContainer(toCreateOptions(spec));
    let output: FollowedOutput | undefined;
    try {
      output = await followOutput(
        {
          attach: () => this.streams.getContainer(container.id).attach({ stream: true, stdout: true, stderr: true }),
          running: async () => (await container.inspect()).State.Running,
        },
        onOutput,
        this.log.child({ containerId: container.id }),
      );
      await container.start();
    } catch (err) {
      output?.stop();
      await container.remove({ force: true }).catch(() => undefined);
      throw new SandboxError('INTERNAL_ERROR', `container ${spec.name} failed to start: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.log.info({ containerId: container.id, name: spec.name }, 'sandbox started');
    return { id: container.id, name: spec.name, output };
  }

  /** Stops (SIGTERM, then SIGKILL after the grace period) and removes; absent is fine. */
  async remove(containerId: string): Promise<void> {
    const container = this.docker.getContainer(containerId);
    try {
      await container.stop({ t: STOP_TIMEOUT_S });
    } catch (err) {
      if (!isStatus(err, 304) && !isStatus(err, 404))
        this.log.warn({ err, containerId }, 'stop failed; removing anyway');
    }
    try {
      await container.remove({ force: true, v: true });
      this.log.info({ containerId }, 'sandbox removed');
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  async inspect(containerId: string): Promise<Docker.ContainerInspectInfo> {
    return this.docker.getContainer(containerId).inspect();
  }

  /**
   * A running container's memory now, its high-water mark where the engine reports one (cgroup v1:
   * max_usage; null on cgroup v2), and its process count, from one non-streaming stats request.
   */
  async usage(containerId: string): Promise<ContainerUsage> {
    // one-shot: no second sample for CPU percentages (which would take the engine a second or two).
    const options = { stream: false as const, 'one-shot': true };
    const stats = await this.docker.getContainer(containerId).stats(options);
    const memory = stats.memory_stats as { usage?: number; max_usage?: number };
    return {
      memoryBytes: memory.usage ?? 0,
      memoryPeakBytes: memory.max_usage ?? null,
      pids: stats.pids_stats?.current ?? 0,
    };
  }

  /** Settles when the container exits, with its exit code and whether the kernel OOM-killed it. */
  async waitForExit(containerId: string): Promise<{ exitCode: number; oomKilled: boolean }> {
    const container = this.streams.getContainer(containerId);
    const result = (await container.wait()) as { StatusCode: number };
    const info = await container.inspect().catch(() => undefined);
    return { exitCode: result.StatusCode, oomKilled: info?.State.OOMKilled ?? false };
  }

  /** Containers labelled as made by orchestrator `orchestratorId`, running or not. */
  async listManaged(orchestratorId: string): Promise<ManagedContainer[]> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.orchestrator}=${orchestratorId}`] },
    });
    return found.map((c) => ({
      id: c.Id,
      name: c.Names[0]?.replace(/^\//, '') ?? c.Id,
      state: c.State,
      labels: c.Labels,
    }));
  }
}

function toCreateOptions(spec: SandboxSpec): Docker.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    User: spec.user,
    WorkingDir: '/plugin',
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    // A one-shot command is not the runner: the image's probe of the plugin socket does not apply.
    ...(spec.command
      ? { Entrypoint: spec.command, Healthcheck: { Test: ['NONE'] } }
      : { Healthcheck: healthcheck(spec.health) }),
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Privileged: false,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      IpcMode: 'private',
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      Ulimits: [
        { Name: 'nofile', Soft: spec.nofile, Hard: spec.nofile },
        { Name: 'nproc', Soft: spec.nproc, Hard: spec.nproc },
      ],
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${spec.tmpBytes}` },
      Mounts: spec.mounts.map((m) => ({
        Type: 'bind' as const,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly,
        BindOptions: { Propagation: 'rprivate' as const },
      })),
      LogConfig: { Type: 'json-file', Config: { 'max-size': String(spec.logMaxBytes), 'max-file': '1' } },
      RestartPolicy: { Name: 'no' },
      ...(spec.ociRuntime ? { Runtime: spec.ociRuntime } : {}),
    },
  };
}

/**
 * The image's HEALTHCHECK with these timings: no Test, so the engine keeps the image's probe (each
 * language's image brings its own); a timing left out (0) stays the image's too.
 */
function healthcheck(timings: HealthTimings): Docker.HealthConfig {
  const ns = (ms: number | undefined) => (ms ?? 0) * NS_PER_MS;
  return {
    Interval: ns(timings.intervalMs),
    Timeout: ns(timings.timeoutMs),
    StartPeriod: ns(timings.startPeriodMs),
    Retries: timings.retries ?? 0,
  };
}

function isStatus(err: unknown, statusCode: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: number }).statusCode === statusCode;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to the ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
