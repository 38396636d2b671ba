import { bullmq } from './bullmq.js';
import type { TaskResult, TaskStatus } from '../model/index.js';
import { bullConnection } from './bull-connection.js';
import type { LostTask } from './lost-workers.js';
import type { QueueCore } from './queue-core.js';
import { QUEUE_NAME } from './queue-keys.js';

/** What a finished job returns (BullMQ's "return value"): the task's outcome in short, as JSON keeps it. */
export type JobOutcome = { status: TaskStatus } & { [K in 'branch' | 'error']: NonNullable<TaskResult[K]> | null };

/** A job as a worker gets it: its id (meant to be a task id) and its payload, both as Redis held them. */
export interface QueueJob {
  id: string;
  data: unknown;
}

/** What a worker made of a job. */
export type JobVerdict =
  /** The task ran, or ended without running (cancelled, already ended): the job completes. */
  | { kind: 'done'; outcome: JobOutcome }
  /** It will never run: the job fails for good with this reason (never retried). */
  | { kind: 'refused'; reason: string }
  /** Left to other workers: back to the queue unclaimed, without using its one attempt, for `delayMs`. */
  | { kind: 'hand-back'; delayMs: number }
  /**
   * Rate limited: back to the queue until `until` (ms since the epoch), without using its attempt; the
   * worker recorded the task DELAYED first (`WorkerQueue.delay`).
   */
  | { kind: 'delay'; until: number };

export interface ConsumeOptions {
  /** The worker's name (BullMQ's worker name too). */
  name: string;
  /** Jobs at once. */
  concurrency: number;
  /** The job lock; renewed every half of it while the job runs (for hours if need be). */
  lockDurationMs: number;
  /** How often BullMQ looks for jobs whose lock expired. */
  stalledIntervalMs: number;
  /** A job whose worker died comes back once (`requeue_lost`) instead of failing. */
  requeueLost: boolean;
  onError: (error: Error) => void;
  /** A task was found lost through its job: BullMQ failed it when its worker's lock expired. */
  onLost: (lost: LostTask) => void;
}

/** Jobs being taken. */
export interface JobConsumer {
  /** Take no new job (asks nothing of Redis); running ones go on. */
  stopTaking(): void;
  /**
   * Stop taking jobs and resolve once the running ones have ended, then close the consumer's connection.
   * That waits for Redis: with `force`, running jobs are not waited for and the connection is dropped
   * (the way to stop when Redis does not answer; BullMQ's graceful close then never ends).
   */
  close(options?: { force?: boolean }): Promise<void>;
}

/**
 * The BullMQ worker, the only one tsk makes. `handle` decides each job; here its verdict becomes BullMQ's:
 * a return value, an `UnrecoverableError`, or a hand-back or delay — `job.moveToDelayed(time, token)` then
 * `DelayedError`, which BullMQ takes as "moved, not failed": the lock is released, the attempt is not
 * counted (`skipAttempt`), and the stalled checker never sees the job (it is no longer active). The job
 * waits in BullMQ's delayed set until then, and any worker may take it after.
 */
export function consumeJobs(core: QueueCore, options: ConsumeOptions, handle: (job: QueueJob) => Promise<JobVerdict>): JobConsumer {
  const { DelayedError, UnrecoverableError, Worker } = bullmq();
  const worker = new Worker<unknown, JobOutcome>(
    QUEUE_NAME,
    async (job, token) => {
      const verdict = await handle({ id: job.id ?? '', data: job.data });
      if (verdict.kind === 'done') return verdict.outcome;
      if (verdict.kind === 'refused') throw new UnrecoverableError(verdict.reason);
      if (token === undefined) throw new Error(`cannot hand job ${job.id ?? ''} back without its lock token`);
      await job.moveToDelayed(verdict.kind === 'delay' ? verdict.until : Date.now() + verdict.delayMs, token);
      throw new DelayedError();
    },
    {
      connection: bullConnection(core.redis),
      prefix: core.keys.namespace,
      name: options.name,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // 0: a job whose worker died is failed, never silently run again; 1 re-runs it once (requeue_lost).
      maxStalledCount: options.requeueLost ? 1 : 0,
    },
  );
  worker.on('failed', (job, error) => {
    if (job?.id === undefined) return;
    core.lost
      .settleStalled(job.id, error.message)
      .then((lost) => lost && options.onLost(lost))
      .catch((failure: unknown) => options.onError(failure as Error));
  });
  worker.on('error', options.onError);
  return {
    stopTaking: () => void worker.pause(true).catch((error: unknown) => options.onError(error as Error)),
    close: (close = {}) => worker.close(close.force === true),
  };
}
