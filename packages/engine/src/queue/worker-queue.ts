import { settleWithin } from '../common/settle-within.js';
import { boundedSink } from '../logging/index.js';
import { isTerminal, type TaskStatus } from '../model/index.js';
import { consumeJobs, type ConsumeOptions, type JobConsumer, type JobVerdict, type QueueJob } from './job-consumer.js';
import type { LostTask } from './lost-workers.js';
import type { QueueCore } from './queue-core.js';
import { dropConnection } from './redis-connection.js';
import { taskLogWriter, type TaskLogWriter } from './task-log.js';
import type { TaskRecord } from './task-record.js';
import type { DelayResult, HandBackResult, TaskOutcome } from './task-store.js';
import type { WorkerReport } from './worker-registry.js';

/** How long closing a connection waits for Redis to acknowledge QUIT before it drops the connection. */
const QUIT_WAIT_MS = 1000;

/** What a worker learns when it claims a task (see {@link WorkerQueue.claim}). */
export type Claim =
  /** It is this worker's now: run it (`rerun`: again, after the worker that had it was lost). */
  | { kind: 'run'; rerun: boolean }
  /** A cancel arrived first: end it CANCELLED. */
  | { kind: 'cancel' }
  /** No record (deleted): nothing of tsk's to run. */
  | { kind: 'missing' }
  /** It already ended (or waits for its parent): nothing to run. */
  | { kind: 'not-runnable'; status: TaskStatus }
  /** Its job came back after its worker was lost, and it may not run again here: end it FAILED "worker … lost". */
  | { kind: 'lost'; previousWorker: string };

/** A task's stored job and record, both unverified (what a chained task's start is checked from). */
export interface StoredTaskReader {
  stored(id: string): Promise<{ job: unknown; record: TaskRecord | undefined }>;
}

/** A subscription; `close()` ends it. */
export interface Subscription {
  close(): Promise<void>;
}

/**
 * The queue as a worker uses it, and all a worker may use: take jobs ({@link consume}), the task life
 * cycle on the queue's side (claim, hand back, end and cascade, refuse), cancel requests, logs, the
 * heartbeat and registry, and the "worker lost" rule (see `lost-workers.ts`). Made by
 * `TaskQueue.forWorker()`; the records, chains, keys, BullMQ objects and connection stay inside `queue/`.
 */
export class WorkerQueue implements StoredTaskReader {
  readonly #core: QueueCore;

  constructor(core: QueueCore) {
    this.#core = core;
  }

  /** Start taking jobs: the BullMQ worker (see `consumeJobs`). */
  consume(options: ConsumeOptions, handle: (job: QueueJob) => Promise<JobVerdict>): JobConsumer {
    return consumeJobs(this.#core, options, handle);
  }

  /**
   * Take a task: it runs only when QUEUED (or DELAYED, its job back after the delay) with no pending
   * cancel (atomically; the note a hand-back left and the delay's time are cleared). A task whose job came back after its worker was lost (`requeue_lost`) runs again only
   * with `resumeLost` and when that worker is lost by the rule.
   */
  async claim(id: string, worker: string, options: { resumeLost: boolean }): Promise<Claim> {
    const { store, lost } = this.#core;
    const startedAt = new Date().toISOString();
    const claim = await store.claim(id, worker, startedAt);
    if (claim.kind === 'ok') return { kind: 'run', rerun: false };
    if (claim.kind !== 'rerun') return claim;
    const previousWorker = claim.previousWorker;
    if (options.resumeLost && (await lost.isLost(previousWorker)) && (await store.reclaim(id, worker, startedAt))) return { kind: 'run', rerun: true };
    return { kind: 'lost', previousWorker };
  }

  /** Leave a task to other workers: record what it waits for (`note`), unless a cancel is pending or it ended. */
  handBack(id: string, note: string | undefined): Promise<HandBackResult> {
    return this.#core.store.handBack(id, note);
  }

  /**
   * Put a task this worker runs back in the queue, rate limited, until `until`: DELAYED, without a worker
   * (the caller then returns the `delay` verdict, which moves the job to BullMQ's delayed set without using
   * its attempt). Refused with `limit` once it was delayed `maxDelays` times (the larger of the record's
   * count and `counted`, this machine's own); `cancel` when a cancel is pending.
   */
  delay(id: string, worker: string, until: Date, options: { counted: number; maxDelays: number }): Promise<DelayResult> {
    return this.#core.store.delay(id, worker, until.toISOString(), options.counted, options.maxDelays);
  }

  /**
   * Record how a task ended, unless it already had (first writer wins; with `ifWorker` only while that
   * worker runs it), and carry it down its chain. Returns whether this call ended it.
   */
  end(id: string, outcome: TaskOutcome, options: { ifWorker?: string } = {}): Promise<boolean> {
    return this.#core.chain.finish(id, outcome, options);
  }

  /** Fail a task this worker will not run, with the reason in its log; a job without a record gets nothing. */
  async refuse(id: string, worker: string, reason: string): Promise<void> {
    if (!(await this.#core.store.exists(id))) return;
    const log = taskLogWriter(this.#core.redis, this.#core.keys, id);
    // The reason can quote the payload, which anyone with access to Redis wrote.
    boundedSink(log).write('warn', `Worker ${worker} refused the task: ${reason}`);
    await log.flush();
    await this.end(id, { status: 'FAILED', error: `refused: ${reason}` });
  }

  async stored(id: string): Promise<{ job: unknown; record: TaskRecord | undefined }> {
    const [job, record] = await Promise.all([this.#core.store.readJob(id), this.#core.store.read(id)]);
    return { job, record };
  }

  /** The worker of a task that has ended, or undefined while it has not (or has no record). */
  async endedTask(id: string): Promise<{ worker: string | undefined } | undefined> {
    const record = await this.#core.store.read(id);
    return record !== undefined && isTerminal(record.status) ? { worker: record.worker } : undefined;
  }

  /** The task's log stream in Redis. */
  logWriter(id: string): TaskLogWriter {
    return taskLogWriter(this.#core.redis, this.#core.keys, id);
  }

  /** Which of these tasks have a pending cancel request. */
  cancelRequested(ids: readonly string[]): Promise<Set<string>> {
    return this.#core.store.cancelRequested(ids);
  }

  /** Cancel requests as they are published (`tsk cancel`, from any machine), on a connection of their own. */
  async onCancel(listener: (taskId: string) => void): Promise<Subscription> {
    const subscriber = this.#core.redis.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, taskId: string) => listener(taskId));
    await subscriber.subscribe(this.#core.keys.cancelChannel);
    return {
      close: async () => {
        // QUIT waits for an answer; a Redis that has gone away never gives one.
        if (subscriber.status === 'ready') await settleWithin(subscriber.quit(), QUIT_WAIT_MS);
        dropConnection(subscriber);
      },
    };
  }

  /** Whether the connection to Redis is up now (a stopping worker waits for no answer from one that is not). */
  get connected(): boolean {
    return this.#core.redis.status === 'ready';
  }

  /**
   * Drop the connection to Redis now, without waiting for answers: every command still waiting for Redis
   * fails at once, and it stops reconnecting. A stopping worker's last resort when Redis does not answer:
   * what it could not write is left to the "worker lost" rule (see `lost-workers.ts`).
   */
  disconnect(): void {
    dropConnection(this.#core.redis);
  }

  /** Say this worker is alive, and what it is, for `ttlMs`. */
  beat(report: WorkerReport, ttlMs: number): Promise<void> {
    return this.#core.registry.beat(report, ttlMs);
  }

  /** A worker that stopped cleanly leaves the registry: it is never reaped. */
  leave(name: string): Promise<void> {
    return this.#core.registry.leave(name);
  }

  /** Registered workers other than `self` that are lost; none within `settleMs` of a reconnection. */
  deadWorkers(self: string, settleMs: number): Promise<Set<string>> {
    return this.#core.lost.deadWorkers(self, settleMs);
  }

  /** Settle the RUNNING tasks of lost workers: FAILED "worker … lost", or QUEUED again with `requeue`. */
  settleLostTasks(self: string, settleMs: number, requeue: boolean): Promise<LostTask[]> {
    return this.#core.lost.settleTasks(self, settleMs, requeue);
  }

  /** Why `worker` no longer owns the task (lost, or the task moved on without it), or undefined while it does. */
  ownership(id: string, worker: string): Promise<string | undefined> {
    return this.#core.lost.ownership(id, worker);
  }

  /** Resolve WAITING tasks whose parent ended while no process could cascade. */
  sweepWaiting(): Promise<void> {
    return this.#core.chain.sweepWaiting();
  }
}
