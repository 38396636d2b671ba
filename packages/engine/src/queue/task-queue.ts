import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { InputError } from '../errors/index.js';
import { log as debug } from '../logging/index.js';
import { isTerminal, type TaskSpec, type TaskStatus } from '../model/index.js';
import { peekJob, type SignedTask } from '../signing/index.js';
import { loadViews } from './load-views.js';
import { QueueCore } from './queue-core.js';
import { buildRetryTask, originalForRetry, type RetryOverrides, type RetryTrust } from './retry-spec.js';
import { followTaskLog, readTaskLog, tailTaskLog, type TaskLogEntry } from './task-log.js';
import type { TaskRecord } from './task-record.js';
import type { TaskView } from './task-view.js';
import { WorkerQueue } from './worker-queue.js';
import type { WorkerInfo } from './worker-registry.js';

export interface TaskQueueOptions {
  /** An open connection (see `connectRedis`); the queue uses it but does not own it. */
  connection: Redis;
  /** Prefix of every key. @defaultValue 'tsk' */
  namespace?: string;
}

/** What `cancel` did. */
export type CancelOutcome =
  /** It was QUEUED, WAITING or DELAYED and is now CANCELLED. */
  | { kind: 'cancelled' }
  /** It is running: its worker has been told and stops the container. */
  | { kind: 'stopping' }
  /** It had already ended. */
  | { kind: 'ended'; status: TaskStatus }
  | { kind: 'missing' };

export interface WaitForTasksOptions {
  signal?: AbortSignal;
  /** @defaultValue 500 */
  pollMs?: number;
  /** Give up after this long and return what the tasks are at. @defaultValue no limit */
  timeoutMs?: number;
  /** Called with the tasks as they are at each poll (what they wait for shows in their `note`). */
  onPoll?: (views: readonly TaskView[]) => void;
}

/** The BullMQ queue as the BullMQ board reads it (see {@link TaskQueue.boardQueue}). */
export type BoardQueue = Queue;

/** BullMQ's job counts by state (see {@link TaskQueue.jobCounts}). */
export interface JobCounts {
  waiting: number;
  prioritized: number;
  delayed: number;
  active: number;
}

/** A task's job and record as Redis holds them: neither is verified. */
export interface StoredTask {
  /** The signed job (or an older tsk's unsigned spec); undefined when there is no record. */
  job: unknown;
  record: TaskRecord | undefined;
}

/**
 * The task queue as commands see it (add, list, cancel, retry, delete, clean, logs, workers): one BullMQ
 * queue whose job id is the task id and whose payload is the task's signed job, plus a record per task in
 * Redis that workers update. Status always comes from {@link deriveTaskView}. Its parts (records, chains,
 * keys, the BullMQ object, the connection) are private to `queue/`; a worker gets its own face of the same
 * queue from {@link forWorker}.
 */
export class TaskQueue {
  readonly #core: QueueCore;

  constructor(options: TaskQueueOptions) {
    this.#core = new QueueCore(options.connection, options.namespace);
  }

  /** The same queue as a worker uses it (take jobs, claim, end, hand back, beat, settle lost workers). */
  forWorker(): WorkerQueue {
    return new WorkerQueue(this.#core);
  }

  /** The live workers (`tsk workers`). */
  workers(): Promise<WorkerInfo[]> {
    return this.#core.registry.list();
  }

  /** The state of the connection to Redis (`ready` when it is up; a worker's `/healthz` shows it). */
  get connectionStatus(): string {
    return this.#core.redis.status;
  }

  /**
   * The BullMQ queue itself, for the BullMQ board the dashboard shows under `/queues` (read-only there:
   * anything it would change goes around the task life cycle). The one BullMQ object the door hands out;
   * nothing else may act on the queue through it. Closed with this queue.
   */
  boardQueue(): BoardQueue {
    return this.#core.bull;
  }

  /** How many BullMQ jobs wait, are prioritized, delayed or held by a worker now (one Redis call; a worker's `/metrics`). */
  async jobCounts(): Promise<JobCounts> {
    const counts = await this.#core.bull.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return { waiting: counts.waiting ?? 0, prioritized: counts.prioritized ?? 0, delayed: counts.delayed ?? 0, active: counts.active ?? 0 };
  }

  /** Nothing queued (handed-back jobs included), running or waiting for a parent: a `-q` worker may stop. */
  async isDrained(): Promise<boolean> {
    const counts = await this.#core.bull.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    if (Object.values(counts).some((count) => count > 0)) return false;
    return (await this.#core.store.waitingIds()).length === 0;
  }

  /** A task's job and record as stored, both unverified (for what verifies them: `tsk fetch`). */
  async stored(id: string): Promise<StoredTask> {
    const [job, record] = await Promise.all([this.#core.store.readJob(id), this.#core.store.read(id)]);
    return { job, record };
  }

  /**
   * Queue a task. With `parentTaskId` it is WAITING until the parent ends (and starts, fails or is
   * cancelled at once when the parent already has). Returns the task as it is now.
   */
  async add(task: SignedTask): Promise<TaskView> {
    const { spec } = task;
    if (spec.parentTaskId === undefined) {
      await this.#core.store.create(task, 'QUEUED');
      try {
        await this.#core.enqueue(spec.id, spec.type, task.job);
      } catch (error) {
        await this.#core.chain.finish(spec.id, { status: 'FAILED', error: `could not queue: ${(error as Error).message}` });
        throw error;
      }
    } else {
      await this.checkParent(spec.parentTaskId, spec);
      await this.#core.store.create(task, 'WAITING');
      const parentStatus = await this.#core.store.attachChild(spec.parentTaskId, spec.id);
      if (parentStatus === 'missing') await this.#core.chain.finish(spec.id, { status: 'FAILED', error: `parent task ${spec.parentTaskId} no longer exists` });
      else if (isTerminal(parentStatus)) await this.#core.chain.resolveChild(spec.id, spec.parentTaskId, parentStatus);
    }
    return (await this.get(spec.id)) ?? this.missing(spec.id);
  }

  async get(id: string): Promise<TaskView | undefined> {
    const record = await this.#core.store.read(id);
    return record && (await loadViews([record], () => this.#core.bull, this.#core.registry))[0];
  }

  /** Several tasks by id, in the order asked; throws {@link InputError} naming the first unknown id. */
  async getMany(ids: readonly string[]): Promise<TaskView[]> {
    const views = await loadViews(await this.#core.store.readMany(ids), () => this.#core.bull, this.#core.registry);
    return ids.map((id) => views.find((view) => view.id === id) ?? this.missing(id));
  }

  /** Every task, oldest first. */
  async list(): Promise<TaskView[]> {
    return loadViews(await this.#core.store.readMany(await this.#core.store.ids()), () => this.#core.bull, this.#core.registry);
  }

  async cancel(id: string): Promise<CancelOutcome> {
    const view = await this.get(id);
    if (view === undefined) return { kind: 'missing' };
    if (isTerminal(view.status)) return { kind: 'ended', status: view.status };
    if (view.status === 'WAITING') {
      const ended = await this.#core.chain.finish(id, { status: 'CANCELLED', error: 'Cancelled' });
      return ended ? { kind: 'cancelled' } : this.cancel(id);
    }
    const previous = await this.#core.store.requestCancel(id);
    if (previous === 'missing') return { kind: 'missing' };
    // A DELAYED task's job waits in BullMQ's delayed set: removed like a queued one.
    if ((previous === 'QUEUED' || previous === 'DELAYED') && (await this.removeQueuedJob(id, previous))) {
      await this.#core.chain.finish(id, { status: 'CANCELLED', error: 'Cancelled' });
      return { kind: 'cancelled' };
    }
    if (previous === 'QUEUED' || previous === 'RUNNING' || previous === 'DELAYED') return { kind: 'stopping' };
    return this.cancel(id);
  }

  /** Block until every task has ended (or the timeout/abort); returns their views. */
  async waitFor(ids: readonly string[], options: WaitForTasksOptions = {}): Promise<TaskView[]> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const views = await this.getMany(ids);
      options.onPoll?.(views);
      if (views.every((view) => isTerminal(view.status)) || Date.now() >= deadline || options.signal?.aborted) return views;
      await sleep(options.pollMs ?? 500, options.signal);
    }
  }

  /**
   * A new task with the same instructions and settings as `id`, signed by the retrier (see
   * {@link buildRetryTask}); the original must verify against `trust.ring`.
   */
  async retry(id: string, overrides: RetryOverrides, trust: RetryTrust): Promise<TaskView> {
    const job = await this.#core.store.readJob(id);
    if (job === undefined) this.missing(id);
    const original = originalForRetry(job, id, trust);
    const keepParent = original.parentTaskId !== undefined && (await this.#core.store.exists(original.parentTaskId));
    return this.add(await buildRetryTask(original, await this.#core.store.read(id), overrides, keepParent, trust));
  }

  /**
   * Remove a task's job, record and log. A task that has not ended is cancelled first. Returns the job as
   * it was stored (unverified) for the caller to clean up after.
   */
  async remove(id: string): Promise<unknown> {
    const job = await this.#core.store.readJob(id);
    if (job === undefined) this.missing(id);
    const view = await this.get(id);
    if (view !== undefined && !isTerminal(view.status)) {
      await this.cancel(id);
      await this.waitFor([id], { timeoutMs: 30_000 });
    }
    await this.removeJob(id);
    await this.#core.store.remove(id);
    return job;
  }

  /** Ids of ended tasks that finished before `finishedBefore` (all ended tasks when undefined). */
  async endedTasks(finishedBefore?: Date): Promise<TaskView[]> {
    const limit = finishedBefore?.getTime() ?? Infinity;
    return (await this.list()).filter((task) => {
      if (!isTerminal(task.status)) return false;
      const ended = Date.parse(task.finishedAt ?? task.startedAt ?? task.createdAt);
      return Number.isNaN(ended) || ended < limit;
    });
  }

  readLog(id: string): Promise<TaskLogEntry[]> {
    return readTaskLog(this.#core.redis, this.#core.keys, id);
  }

  tailLog(id: string, count: number): Promise<TaskLogEntry[]> {
    return tailTaskLog(this.#core.redis, this.#core.keys, id, count);
  }

  /** The log from the beginning, then live lines until the task ends. */
  followLog(id: string, signal?: AbortSignal): AsyncGenerator<TaskLogEntry> {
    return followTaskLog(this.#core.redis, this.#core.keys, id, {
      signal,
      isFinished: async () => {
        const view = await this.get(id);
        return view === undefined || isTerminal(view.status);
      },
    });
  }

  /** Close the BullMQ queue (not the connection, which the caller owns). Safe to call twice. */
  close(): Promise<void> {
    return this.#core.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A courtesy check for the producer (the worker verifies the parent for real before the child runs). */
  private async checkParent(parentId: string, child: TaskSpec): Promise<void> {
    const job = await this.#core.store.readJob(parentId);
    if (job === undefined) throw new InputError(`No task ${parentId} to chain after`, { hint: 'see `tsk list`' });
    const parent = peekJob(job).spec;
    const remoteOf = (source: unknown) => (typeof source === 'object' && source !== null && 'url' in source ? source.url : undefined);
    const childRemote = child.source.kind === 'remote' ? child.source.url : undefined;
    // One remote is one repository, wherever each person's clone of it is.
    if (childRemote !== undefined && remoteOf(parent?.source) === childRemote) return;
    if (childRemote === undefined && parent?.repoPath === child.repoPath) return;
    const where = remoteOf(parent?.source) ?? parent?.repoPath;
    throw new InputError(`Task ${parentId} works on ${String(where).slice(0, 200)}; a chained task must use the same repository`);
  }

  /**
   * Remove a QUEUED (or DELAYED) task's job. A worker may hold it for a moment: to claim it (the claim then
   * sees the cancel), to hand it back to the queue because it lacks a label or the repository, or to move it
   * to the delayed set right after recording the delay. Try again for up to 2 s, while the task is still in
   * `status`, so a task cancelled while its job is passed around still ends CANCELLED here and never waits
   * for a worker that can take it.
   */
  private async removeQueuedJob(id: string, status: 'QUEUED' | 'DELAYED'): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (await this.removeJob(id)) return true;
      if (attempt >= 20 || (await this.#core.store.read(id))?.status !== status) return false;
      await sleep(100);
    }
  }

  /** Remove the BullMQ job; false when it is locked by a worker (running) or already gone. */
  private async removeJob(id: string): Promise<boolean> {
    try {
      return (await this.#core.bull.remove(id)) === 1;
    } catch (error) {
      debug.queue('[%s] job removal: %s', id, (error as Error).message);
      return false;
    }
  }

  private missing(id: string): never {
    throw new InputError(`No task ${id}`, { hint: 'see `tsk list`' });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
