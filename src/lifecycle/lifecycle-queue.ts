import { DelayedError, Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/index.ts';
import { QUEUE_PREFIX } from '../redis/index.ts';

export const LIFECYCLE_ACTIONS = ['enable', 'disable', 'reload', 'restart', 'uninstall', 'shutdown'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export interface LifecycleJobData {
  action: LifecycleAction;
  tenant: string;
  pluginId: string;
  /** reload: the new version (a directory or .ctp); the configured source when omitted. */
  bundle?: string;
  /** Why the job was submitted (operator, crash restart, start-up, …). */
  cause: string;
  /** restart: scheduled by the supervisor after a crash; void once the plugin left ERROR. */
  supervised?: boolean;
}

export interface JobProgress {
  step: string;
  percent: number;
}

/** A job as the admin API and the CLI show it. */
export interface JobView {
  id: string;
  action: LifecycleAction;
  tenant: string;
  pluginId: string;
  cause: string;
  state: string;
  progress: JobProgress | null;
  attemptsMade: number;
  failedReason: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface QueueSettings {
  name: string;
  concurrency: number;
  attempts: number;
  backoffMs: number;
  /** How long a job waits before trying again while another job holds its plugin. */
  busyRetryMs: number;
  /** Lock of an active job; when its worker dies, the job is found stalled after about this long. */
  jobLockMs: number;
}

/** Thrown by a processor for a failure that retrying cannot fix: the job fails at once. */
export class PermanentJobFailure extends Error {}
/** Thrown by a processor when another job holds the plugin: the job waits and tries again. */
export class PluginBusy extends Error {}

export type JobProcessor = (
  data: LifecycleJobData,
  progress: (step: string, percent: number) => Promise<void>,
) => Promise<unknown>;

/**
 * The lifecycle jobs, on BullMQ over Redis: durable across orchestrator crashes (a stalled job is
 * picked up again), shared by every orchestrator process on the Redis, retried with exponential
 * backoff. The only module that imports BullMQ.
 */
export class LifecycleQueue {
  private readonly settings: QueueSettings;
  private readonly connection: Redis;
  private readonly log: Logger;
  private readonly queue: Queue<LifecycleJobData>;
  private readonly events: QueueEvents;
  private worker: Worker<LifecycleJobData> | undefined;
  private closing: Promise<void> | undefined;

  constructor(connection: Redis, settings: QueueSettings, log: Logger) {
    this.connection = connection;
    this.settings = settings;
    this.log = log.child({ component: 'lifecycle-queue', queue: settings.name });
    const common = { connection, prefix: QUEUE_PREFIX };
    this.queue = new Queue<LifecycleJobData>(settings.name, {
      ...common,
      defaultJobOptions: {
        attempts: settings.attempts,
        backoff: { type: 'exponential', delay: settings.backoffMs },
        removeOnComplete: { count: 500 },
        removeOnFail: { count: 500 },
      },
    });
    this.events = new QueueEvents(settings.name, common);
    this.queue.on('error', (err) => this.log.warn({ err }, 'queue error'));
    this.events.on('error', (err) => this.log.warn({ err }, 'queue events error'));
  }

  /** Starts working on jobs (this process becomes one of the queue's workers). */
  async startWorker(processor: JobProcessor): Promise<void> {
    await this.events.waitUntilReady();
    this.worker = new Worker<LifecycleJobData>(this.settings.name, (job, token) => this.run(job, token, processor), {
      connection: this.connection,
      prefix: QUEUE_PREFIX,
      concurrency: this.settings.concurrency,
      lockDuration: this.settings.jobLockMs,
      stalledInterval: this.settings.jobLockMs,
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'worker error'));
    this.worker.on('failed', (job, err) =>
      this.log.warn(
        {
          jobId: job?.id,
          action: job?.data.action,
          pluginId: job?.data.pluginId,
          attemptsMade: job?.attemptsMade,
          reason: err.message,
        },
        'job failed',
      ),
    );
    await this.worker.waitUntilReady();
  }

  async submit(data: LifecycleJobData, options: { delayMs?: number } = {}): Promise<string> {
    const job = await this.queue.add(data.action, data, { delay: options.delayMs ?? 0 });
    this.log.info(
      { jobId: job.id, action: data.action, tenant: data.tenant, pluginId: data.pluginId, cause: data.cause },
      'job submitted',
    );
    return job.id as string;
  }

  async get(id: string): Promise<JobView | undefined> {
    const job = await this.queue.getJob(id);
    return job ? view(job) : undefined;
  }

  async list(limit: number): Promise<JobView[]> {
    const jobs = await this.queue.getJobs(['active', 'waiting', 'delayed', 'completed', 'failed'], 0, limit - 1, false);
    const views = await Promise.all(jobs.filter(Boolean).map(view));
    return views.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  /** Settles when the job completes (with its view) or fails (rejects with its reason). */
  async waitFor(id: string, timeoutMs: number): Promise<JobView> {
    const job = await this.queue.getJob(id);
    if (!job) throw new Error(`job ${id} does not exist`);
    await job.waitUntilFinished(this.events, timeoutMs);
    return (await this.get(id)) as JobView;
  }

  counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed');
  }

  /** Stops taking jobs (the one in progress finishes), then closes; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker?.close();
      await this.events.close();
      await this.queue.close();
    })();
    return this.closing;
  }

  private async run(job: Job<LifecycleJobData>, token: string | undefined, processor: JobProcessor): Promise<unknown> {
    const { action, tenant, pluginId } = job.data;
    const log = this.log.child({ jobId: job.id, action, tenant, pluginId, attempt: job.attemptsMade + 1 });
    log.info('job started');
    try {
      const result = await processor(job.data, (step, percent) => job.updateProgress({ step, percent }));
      log.info('job done');
      return result ?? null;
    } catch (err) {
      if (err instanceof PluginBusy) {
        const jitter = Math.floor(Math.random() * this.settings.busyRetryMs);
        await job.moveToDelayed(Date.now() + this.settings.busyRetryMs + jitter, token);
        throw new DelayedError();
      }
      log.warn({ err }, 'job step failed');
      if (err instanceof PermanentJobFailure) throw new UnrecoverableError(err.message);
      throw err;
    }
  }
}

async function view(job: Job<LifecycleJobData>): Promise<JobView> {
  const progress = typeof job.progress === 'object' && job.progress !== null ? (job.progress as JobProgress) : null;
  return {
    id: job.id as string,
    action: job.data.action,
    tenant: job.data.tenant,
    pluginId: job.data.pluginId,
    cause: job.data.cause,
    state: await job.getState(),
    progress,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason || null,
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
