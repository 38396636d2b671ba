import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import { tskVersion } from '../common/tsk-version.js';
import { InputError } from '../errors/index.js';
import { bullConnection } from '../queue/bull-connection.js';
import { isWorkerName, QUEUE_NAME, STALLED_REASON, workerLostReason, type TaskQueue, type WorkerReport } from '../queue/index.js';
import type { DesktopNotifier } from './desktop-notifier.js';
import { LostWorkerReaper } from './lost-worker-reaper.js';
import { RunningTasks } from './running-tasks.js';
import { TaskProcessor, type JobOutcome, type TaskExecutor, type WorkerTrust } from './task-processor.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';
import type { WorkerEvent } from './worker-events.js';
import type { WorkerTiming } from './worker-timing.js';
import { resolveTiming } from './worker-timing.js';

export interface TaskWorkerOptions {
  /** A queue on a `worker` connection (`maxRetriesPerRequest: null`, as BullMQ workers require). */
  queue: TaskQueue;
  docker: Dockerode;
  executor: TaskExecutor;
  /** Unique among the workers sharing the Redis; recorded on tasks and on sandboxes (`tsk.worker`). */
  name: string;
  /** Tasks run at once. Must be ≥ 1. */
  concurrency: number;
  /** Whose jobs it runs and what it allows them. */
  trust: WorkerTrust;
  dataDir: string;
  onEvent: (event: WorkerEvent) => void;
  /** @defaultValue no notifications */
  notify?: DesktopNotifier;
  /** Lock, heartbeat and sweep intervals; the defaults suit production. */
  timing?: Partial<WorkerTiming>;
  /** Frees networks and idle proxies after sandboxes of a dead worker were reaped. @defaultValue nothing */
  sweepNetworks?: () => Promise<unknown>;
}

export interface StopOptions {
  /** How long running tasks may go on before they are cancelled. 0 cancels them at once. */
  graceMs: number;
}

/**
 * A queue worker: takes up to `concurrency` jobs at once from BullMQ and runs them. Its lock on each job
 * is renewed while the task runs (for hours if need be); it beats a heartbeat so others notice if it
 * dies; it listens for cancels; and it periodically cleans up after workers that died.
 */
export class TaskWorker {
  private readonly running = new RunningTasks();
  private readonly timing: WorkerTiming;
  private readonly heartbeat: WorkerHeartbeat;
  private readonly reaper: LostWorkerReaper;
  private readonly timers: NodeJS.Timeout[] = [];
  private bull: Worker | undefined;
  private subscriber: Redis | undefined;
  private stopping: Promise<void> | undefined;
  private lastError = { message: '', at: 0 };
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: TaskWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error('concurrency must be an integer ≥ 1');
    if (!isWorkerName(options.name)) {
      throw new InputError(`Invalid worker name ${JSON.stringify(options.name.slice(0, 140))}`, { hint: 'use 1 to 128 letters, digits and . _ : @ -, starting with a letter or digit' });
    }
    this.timing = resolveTiming(options.timing);
    const { queue, name } = options;
    const onError = (error: Error) => options.onEvent({ kind: 'error', message: error.message });
    this.heartbeat = new WorkerHeartbeat({
      registry: queue.registry,
      report: () => this.report(),
      intervalMs: this.timing.heartbeatIntervalMs,
      ttlMs: this.timing.heartbeatTtlMs,
      onError,
    });
    this.reaper = new LostWorkerReaper({
      docker: options.docker,
      queue,
      worker: name,
      dataDir: options.dataDir,
      requeueLost: options.trust.policy.requeueLost,
      settleMs: this.timing.heartbeatTtlMs + this.timing.heartbeatIntervalMs,
      onEvent: options.onEvent,
      sweepNetworks: options.sweepNetworks,
      runningHere: (taskId) => this.running.ids().includes(taskId),
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** Tasks running here now. */
  get runningCount(): number {
    return this.running.size;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Start beating, listening for cancels, sweeping, and taking jobs (in that order). */
  async start(): Promise<void> {
    const { queue, onEvent } = this.options;
    await this.heartbeat.start();
    await this.listenForCancels();
    const processor = new TaskProcessor({
      queue,
      executor: this.options.executor,
      worker: this.options.name,
      trust: this.options.trust,
      dataDir: this.options.dataDir,
      running: this.running,
      notify: this.options.notify ?? (() => undefined),
      onEvent,
      isStopping: () => this.isStopping,
      handBackDelayMs: this.timing.handBackDelayMs,
    });
    this.bull = new Worker<unknown, JobOutcome>(QUEUE_NAME, (job, token) => processor.process(job, token), {
      connection: bullConnection(queue.redis),
      prefix: queue.keys.namespace,
      name: this.options.name,
      concurrency: this.options.concurrency,
      lockDuration: this.timing.lockDurationMs,
      stalledInterval: this.timing.stalledIntervalMs,
      // 0: a job whose worker died is failed, never silently run again; 1 re-runs it once (requeue_lost).
      maxStalledCount: this.options.trust.policy.requeueLost ? 1 : 0,
    });
    this.bull.on('failed', (job, error) => void this.onJobFailed(job, error).catch((e: unknown) => this.reportError(e)));
    this.bull.on('error', (error) => this.reportError(error));
    this.every(this.timing.reapIntervalMs, () => this.reaper.sweep());
    await this.options.trust.ledger.prune();
    this.every(this.timing.cancelPollMs, () => this.pollCancels());
  }

  /** Cancel a task running here; false when it is not. */
  cancel(taskId: string, reason = 'Cancelled'): boolean {
    return this.running.cancel(taskId, reason);
  }

  /**
   * Stop taking jobs, give running tasks `graceMs` to finish, then cancel them; resolves when everything
   * is closed. Safe to call twice (the first call's grace applies); `stopNow()` shortens it.
   */
  stop(options: StopOptions): Promise<void> {
    this.stopping ??= this.shutdown(options.graceMs);
    return this.stopping;
  }

  /** Cancel every running task now (second Ctrl+C, `tsk server stop --now`). */
  stopNow(): void {
    this.cancelRunning();
    void this.stop({ graceMs: 0 });
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.options.onEvent({ kind: 'stopping', running: this.running.size, graceMs });
    // `tsk workers` shows it stopping at once, not at the next beat.
    this.heartbeat.beatNow();
    const timer = setTimeout(() => this.cancelRunning(), graceMs);
    try {
      await this.bull?.close();
    } finally {
      clearTimeout(timer);
      this.timers.forEach((t) => clearInterval(t));
      await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
      // A worker that stopped cleanly left nothing behind: it leaves the registry and is never reaped.
      await this.heartbeat.stop().catch((error: unknown) => this.reportError(error));
      this.options.onEvent({ kind: 'stopped', worker: this.options.name });
    }
  }

  /** What this worker says about itself with each heartbeat (`tsk workers`). */
  private report(): WorkerReport {
    return {
      name: this.options.name,
      host: hostname(),
      pid: process.pid,
      concurrency: this.options.concurrency,
      running: this.running.ids(),
      labels: this.options.trust.policy.labels,
      version: tskVersion(),
      startedAt: this.startedAt,
      stopping: this.isStopping,
    };
  }

  private cancelRunning(): void {
    for (const id of this.running.cancelAll(`worker ${this.options.name} stopped`)) {
      this.options.onEvent({ kind: 'cancelling', task: id, reason: 'worker stopping' });
    }
  }

  /** Cancels arrive by pub/sub at once; {@link pollCancels} catches any sent while we were reconnecting. */
  private async listenForCancels(): Promise<void> {
    const subscriber = this.options.queue.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, taskId: string) => {
      if (this.cancel(taskId)) this.options.onEvent({ kind: 'cancelling', task: taskId, reason: 'tsk cancel' });
    });
    await subscriber.subscribe(this.options.queue.keys.cancelChannel);
  }

  private async pollCancels(): Promise<void> {
    const requested = await this.options.queue.store.cancelRequested(this.running.ids());
    for (const id of requested) {
      if (this.cancel(id)) this.options.onEvent({ kind: 'cancelling', task: id, reason: 'tsk cancel' });
    }
  }

  /** BullMQ failed a job whose worker died (lock expired): record it as that worker's loss. */
  private async onJobFailed(job: Job | undefined, error: Error): Promise<void> {
    if (job?.id === undefined || !error.message.includes(STALLED_REASON)) return;
    const record = await this.options.queue.store.read(job.id);
    if (record?.status !== 'RUNNING' || record.worker === undefined) return;
    // A worker that is alive only lost its lock (it was unresponsive for a while): it still runs the task
    // and records the real outcome itself; BullMQ's verdict concerns the job, not the task.
    if ((await this.options.queue.store.workersAlive([record.worker])).get(record.worker)) return;
    const ended = await this.options.queue.chain.finish(job.id, { status: 'FAILED', error: workerLostReason(record.worker) }, { ifWorker: record.worker });
    if (ended) this.options.onEvent({ kind: 'lost', task: job.id, worker: record.worker, requeued: false });
  }

  private every(ms: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      task()
        .catch((error: unknown) => this.reportError(error))
        .finally(() => (busy = false));
    }, ms);
    this.timers.push(timer);
  }

  /** Report a background failure, but the same message at most every 30s (Redis away repeats them). */
  private reportError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if (message === this.lastError.message && now - this.lastError.at < 30_000) return;
    this.lastError = { message, at: now };
    this.options.onEvent({ kind: 'error', message });
  }
}
