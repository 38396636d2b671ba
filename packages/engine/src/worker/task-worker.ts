import { hostname } from 'node:os';
import type Dockerode from 'dockerode';
import { settleWithin } from '../common/settle-within.js';
import { tskVersion } from '../common/tsk-version.js';
import { InputError } from '../errors/index.js';
import { isWorkerName, type JobConsumer, type Subscription, type WorkerQueue, type WorkerReport } from '../queue/index.js';
import type { DesktopNotifier } from './desktop-notifier.js';
import { LostWorkerReaper } from './lost-worker-reaper.js';
import { RunningTasks } from './running-tasks.js';
import { TaskProcessor, type TaskExecutor, type WorkerTrust } from './task-processor.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';
import type { WorkerEvent } from './worker-events.js';
import type { WorkerTiming } from './worker-timing.js';
import { resolveTiming } from './worker-timing.js';

export interface TaskWorkerOptions {
  /**
   * The queue as workers use it (`TaskQueue.forWorker()`), on a `worker` connection
   * (`maxRetriesPerRequest: null`, as BullMQ workers require).
   */
  queue: WorkerQueue;
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
  /** `[server] start_interval`: the least time between two task starts (its slots start staggered). @defaultValue 0 */
  startIntervalMs?: number;
  /** Frees networks and idle proxies after sandboxes of a dead worker were reaped. @defaultValue nothing */
  sweepNetworks?: () => Promise<unknown>;
}

/**
 * How long a stopping worker waits, once no sandbox of its runs, for a Redis that does not answer before it
 * drops the connection; and how long for each of its last calls to Redis (leaving the registry, closing
 * the cancel subscription) when Redis is up.
 */
const REDIS_STOP_WAIT_MS = 3000;
/** How long a cancelled task's run may take to remove its sandbox before the worker stops without it. */
const SANDBOX_STOP_WAIT_MS = 60_000;
/** How often a stopping worker looks at where it is. */
const STOP_POLL_MS = 200;

export interface StopOptions {
  /** How long running tasks may go on before they are cancelled. 0 cancels them at once. */
  graceMs: number;
}

/**
 * A queue worker: takes up to `concurrency` jobs at once (`WorkerQueue.consume`) and runs them through
 * the {@link TaskProcessor}. Its lock on each job is renewed while the task runs (for hours if need be);
 * it beats a heartbeat with its report so others notice if it dies and `tsk workers` lists it; it listens
 * for cancels; and it periodically cleans up after workers that died. It reaches the queue only through
 * its {@link WorkerQueue}.
 */
export class TaskWorker {
  private readonly running = new RunningTasks();
  private readonly timing: WorkerTiming;
  private readonly heartbeat: WorkerHeartbeat;
  private readonly reaper: LostWorkerReaper;
  private readonly timers: NodeJS.Timeout[] = [];
  private consumer: JobConsumer | undefined;
  /** Runs of the executor in progress: a sandbox may be up. Redis has no part in them. */
  private executing = 0;
  /** Jobs being handled (verified, claimed, run, ended): what a graceful stop waits for. */
  private handling = 0;
  private cancels: Subscription | undefined;
  private stopping: Promise<void> | undefined;
  private lastError = { message: '', at: 0 };
  /** The connection to Redis was dropped while stopping: what fails for it now is expected, not news. */
  private redisDropped = false;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: TaskWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error('concurrency must be an integer ≥ 1');
    if (options.startIntervalMs !== undefined && !(options.startIntervalMs >= 0)) throw new Error('startIntervalMs must be 0 or more');
    if (!isWorkerName(options.name)) {
      throw new InputError(`Invalid worker name ${JSON.stringify(options.name.slice(0, 140))}`, { hint: 'use 1 to 128 letters, digits and . _ : @ -, starting with a letter or digit' });
    }
    this.timing = resolveTiming(options.timing);
    const { queue, name } = options;
    const onError = (error: Error) => this.reportError(error);
    this.heartbeat = new WorkerHeartbeat({
      queue,
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
    this.cancels = await queue.onCancel((taskId) => {
      if (this.cancel(taskId)) onEvent({ kind: 'cancelling', task: taskId, reason: 'tsk cancel' });
    });
    const executor = this.options.executor;
    const processor = new TaskProcessor({
      queue,
      executor: {
        run: async (spec, options) => {
          this.executing += 1;
          try {
            return await executor.run(spec, options);
          } finally {
            this.executing -= 1;
          }
        },
      },
      worker: this.options.name,
      trust: this.options.trust,
      dataDir: this.options.dataDir,
      running: this.running,
      notify: this.options.notify ?? (() => undefined),
      onEvent,
      isStopping: () => this.isStopping,
      handBackDelayMs: this.timing.handBackDelayMs,
      startIntervalMs: this.options.startIntervalMs,
    });
    this.consumer = queue.consume(
      {
        name: this.options.name,
        concurrency: this.options.concurrency,
        lockDurationMs: this.timing.lockDurationMs,
        stalledIntervalMs: this.timing.stalledIntervalMs,
        requeueLost: this.options.trust.policy.requeueLost,
        onError: (error) => this.reportError(error),
        onLost: (lost) => onEvent({ kind: 'lost', ...lost }),
      },
      async (job) => {
        this.handling += 1;
        try {
          return await processor.process(job);
        } finally {
          this.handling -= 1;
        }
      },
    );
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
    const { queue, onEvent } = this.options;
    onEvent({ kind: 'stopping', running: this.running.size, graceMs });
    // `tsk workers` shows it stopping at once, not at the next beat.
    this.heartbeat.beatNow();
    this.consumer?.stopTaking();
    const graceOver = Date.now() + graceMs;
    const timer = setTimeout(() => this.cancelRunning(), graceMs);
    try {
      const drained = await this.untilDrained(graceOver);
      if (drained && queue.connected) {
        await settleWithin(this.reaper.removeStaleWorkspaces().catch((error: unknown) => this.reportError(error)), REDIS_STOP_WAIT_MS);
      }
      // Graceful only while Redis answers: BullMQ's graceful close waits for it, however long it is away.
      const closed = drained && queue.connected && this.consumer !== undefined && (await settleWithin(this.consumer.close(), REDIS_STOP_WAIT_MS));
      if (!closed && this.consumer !== undefined) {
        // Nothing more can be written: the tasks it could not end stay RUNNING on this worker until its
        // heartbeat expires, then the "worker lost" rule settles them (FAILED, or re-queued).
        const why = queue.connected ? 'the queue did not close in time: stopping without it' : 'Redis does not answer: stopping without it';
        onEvent({ kind: 'error', message: `${why} (tasks not recorded as ended will be settled as lost)` });
        this.cancelRunning();
        this.redisDropped = true;
        queue.disconnect();
        await settleWithin(this.consumer.close({ force: true }), REDIS_STOP_WAIT_MS);
      }
    } finally {
      clearTimeout(timer);
      this.timers.forEach((t) => clearInterval(t));
      if (this.cancels !== undefined) await settleWithin(this.cancels.close(), REDIS_STOP_WAIT_MS);
      // A worker that stopped cleanly left nothing behind: it leaves the registry and is never reaped.
      const left = this.heartbeat.stop();
      left.catch((error: unknown) => this.reportError(error));
      if (!(await settleWithin(left, REDIS_STOP_WAIT_MS))) {
        this.redisDropped = true;
        queue.disconnect();
      }
      onEvent({ kind: 'stopped', worker: this.options.name });
    }
  }

  /**
   * Wait until no job is being handled here (true), or until waiting is pointless (false): no sandbox runs
   * here any more and Redis has not answered for a while, or cancelled tasks did not let go of their
   * sandboxes long after the grace period. A stopping worker never waits for Redis however long it is away.
   */
  private async untilDrained(graceOver: number): Promise<boolean> {
    let awaySince: number | undefined;
    for (;;) {
      if (this.handling === 0) return true;
      const now = Date.now();
      awaySince = this.options.queue.connected ? undefined : (awaySince ?? now);
      if (this.executing === 0 && awaySince !== undefined && now - awaySince >= REDIS_STOP_WAIT_MS) return false;
      // A run that hangs on Redis after its sandbox was stopped (a result's push asks whether the task is
      // still this worker's), or a Redis that answers too slowly.
      if (now > graceOver + SANDBOX_STOP_WAIT_MS) return false;
      await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
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

  /** Cancels arrive by pub/sub at once ({@link start}); this catches any sent while we were reconnecting. */
  private async pollCancels(): Promise<void> {
    const requested = await this.options.queue.cancelRequested(this.running.ids());
    for (const id of requested) {
      if (this.cancel(id)) this.options.onEvent({ kind: 'cancelling', task: id, reason: 'tsk cancel' });
    }
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
    if (this.redisDropped) return;
    const message = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if (message === this.lastError.message && now - this.lastError.at < 30_000) return;
    this.lastError = { message, at: now };
    this.options.onEvent({ kind: 'error', message });
  }
}
