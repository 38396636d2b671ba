import type { Redis } from 'ioredis';
import type { TaskResult, TaskStatus } from '../model/index.js';
import type { ResultSignature, SignedTask } from '../signing/index.js';
import { ATTACH_CHILD, CLAIM, DELAY, FINISH, HAND_BACK, RECLAIM, REQUEST_CANCEL, TRANSITION } from './lua-scripts.js';
import type { QueueKeys } from './queue-keys.js';
import { hashForNewTask, RECORD_FIELDS, recordFromHash, type TaskRecord } from './task-record.js';

/**
 * How a task ended, as recorded: the runner's {@link TaskResult} (one shape from the runner to the record,
 * the view and `--json`) without its id and start, every field but the status optional for the outcomes
 * nobody ran (cancelled, lost, refused), plus the signature of the worker that ran it.
 */
export type TaskOutcome = Pick<TaskResult, 'status'> &
  Partial<Pick<TaskResult, 'branch' | 'commit' | 'baseCommit' | 'error' | 'summary' | 'finishedAt' | 'usage'>> & {
    /** The running worker's signature over the result (what a chained task starts from). */
    signature?: ResultSignature | undefined;
  };

/** What a worker learns when it tries to take a task. */
export type ClaimResult =
  | { kind: 'ok' }
  | { kind: 'cancel' }
  | { kind: 'missing' }
  | { kind: 'not-runnable'; status: TaskStatus }
  | { kind: 'rerun'; previousWorker: string };

/** What a worker learns when it hands a task's job back to the queue (see `HAND_BACK`). */
export type HandBackResult = { kind: 'ok' } | { kind: 'cancel' } | { kind: 'missing' } | { kind: 'not-runnable'; status: TaskStatus };

/** What the worker running a task learns when it puts it back in the queue rate limited (see `DELAY`). */
export type DelayResult =
  /** DELAYED now; the task's `delays`-th time. */
  | { kind: 'ok'; delays: number }
  /** It was delayed `delays` times already, the most allowed: nothing changed. */
  | { kind: 'limit'; delays: number }
  | { kind: 'cancel' }
  | { kind: 'missing' }
  /** No longer RUNNING on this worker (ended, lost). */
  | { kind: 'moved'; status: string };

/** Log stream length kept per task (approximate: `XADD MAXLEN ~`). */
export const LOG_MAXLEN = 10_000;

function pairs(fields: Record<string, string | undefined>): string[] {
  return Object.entries(fields).flatMap(([key, value]) => (value === undefined ? [] : [key, value]));
}

function usageField(value: number | undefined): string | undefined {
  return value === undefined || !Number.isFinite(value) || value < 0 ? undefined : String(value);
}

/**
 * The task records in Redis (one hash per task plus an index) and every atomic change to them. Knows
 * nothing of BullMQ: {@link TaskQueue} combines the two.
 */
export class TaskStore {
  constructor(
    readonly redis: Redis,
    readonly keys: QueueKeys,
  ) {}

  /** Write a new task's record and index it. */
  async create(task: SignedTask, status: 'QUEUED' | 'WAITING'): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.task(task.spec.id), hashForNewTask(task, status))
      .zadd(this.keys.index, Date.parse(task.spec.createdAt) || Date.now(), task.spec.id)
      .exec();
  }

  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.task(id))) === 1;
  }

  async read(id: string): Promise<TaskRecord | undefined> {
    return recordFromHash(await this.redis.hmget(this.keys.task(id), ...RECORD_FIELDS));
  }

  /** Records of many tasks in one round trip; missing ones are left out. */
  async readMany(ids: readonly string[]): Promise<TaskRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.keys.task(id), ...RECORD_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    return replies
      .map(([error, values]) => (error ? undefined : recordFromHash(values as (string | null)[])))
      .filter((record): record is TaskRecord => record !== undefined);
  }

  /**
   * The task's job as stored, unverified: the signed job (`job`), or the unsigned spec an older tsk
   * stored (`spec`); undefined when there is no record. Text that is not JSON comes back as the text,
   * which verification then refuses.
   */
  async readJob(id: string): Promise<unknown> {
    const [job, legacy] = await this.redis.hmget(this.keys.task(id), 'job', 'spec');
    const text = job ?? legacy;
    if (text === null || text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  /** Every task id, oldest first. */
  async ids(): Promise<string[]> {
    return this.redis.zrange(this.keys.index, 0, -1);
  }

  /** Ids of tasks created before `before` (ms since the epoch). */
  async idsCreatedBefore(before: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.index, '-inf', `(${before}`);
  }

  async runningIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.running);
  }

  async waitingIds(): Promise<string[]> {
    return this.redis.smembers(this.keys.waiting);
  }

  async claim(id: string, worker: string, startedAt: string): Promise<ClaimResult> {
    const reply = String(await this.redis.eval(CLAIM, 2, this.keys.task(id), this.keys.running, id, worker, startedAt));
    if (reply === 'ok' || reply === 'cancel' || reply === 'missing') return { kind: reply };
    if (reply.startsWith('rerun:')) return { kind: 'rerun', previousWorker: reply.slice('rerun:'.length) };
    return { kind: 'not-runnable', status: reply as TaskStatus };
  }

  /** A worker will not take this task: record what it waits for, unless a cancel is pending or it ended. */
  async handBack(id: string, note: string | undefined): Promise<HandBackResult> {
    const reply = String(await this.redis.eval(HAND_BACK, 1, this.keys.task(id), note ?? ''));
    if (reply === 'ok' || reply === 'cancel' || reply === 'missing') return { kind: reply };
    return { kind: 'not-runnable', status: reply as TaskStatus };
  }

  /**
   * The worker running a task puts it back in the queue until `until` (ISO), unless it was delayed
   * `maxDelays` times already (counting the larger of the record's count and `counted`, the worker's own).
   */
  async delay(id: string, worker: string, until: string, counted: number, maxDelays: number): Promise<DelayResult> {
    const reply = String(await this.redis.eval(DELAY, 2, this.keys.task(id), this.keys.running, id, worker, until, String(counted), String(maxDelays)));
    if (reply === 'cancel' || reply === 'missing') return { kind: reply };
    const [kind, value = ''] = reply.split(/:(.*)/s);
    if (kind === 'ok' || kind === 'limit') return { kind, delays: Number(value) };
    return { kind: 'moved', status: value };
  }

  /** Take over a RUNNING task whose worker was lost (re-queue policy). */
  async reclaim(id: string, worker: string, startedAt: string): Promise<boolean> {
    return (await this.redis.eval(RECLAIM, 1, this.keys.task(id), worker, startedAt)) === 1;
  }

  /**
   * Record how a task ended, unless it already ended. Returns its children (to cascade to) when this
   * call ended it, undefined when it had already ended, was deleted, or (with `ifWorker`) moved on.
   */
  async finish(id: string, outcome: TaskOutcome, options: { ifWorker?: string } = {}): Promise<string[] | undefined> {
    const fields = pairs({
      branch: outcome.branch,
      commit: outcome.commit,
      error: outcome.error,
      summary: outcome.summary,
      baseCommit: outcome.baseCommit,
      resultSignature: outcome.signature?.signature,
      resultSigner: outcome.signature?.signer,
      costUsd: usageField(outcome.usage?.costUsd),
      inputTokens: usageField(outcome.usage?.inputTokens),
      outputTokens: usageField(outcome.usage?.outputTokens),
    });
    const reply = await this.redis.eval(
      FINISH,
      5,
      this.keys.task(id),
      this.keys.children(id),
      this.keys.waiting,
      this.keys.log(id),
      this.keys.running,
      id,
      outcome.status,
      outcome.finishedAt ?? new Date().toISOString(),
      options.ifWorker ?? '',
      String(LOG_MAXLEN),
      ...fields,
    );
    return Array.isArray(reply) ? reply.map(String) : undefined;
  }

  /** Move a task from `from` to `to` (with extra fields) if it is still in `from`. */
  async transition(id: string, from: TaskStatus, to: TaskStatus, fields: Record<string, string | undefined> = {}): Promise<boolean> {
    const reply = await this.redis.eval(TRANSITION, 3, this.keys.task(id), this.keys.waiting, this.keys.running, id, from, to, ...pairs(fields));
    return reply === 1;
  }

  /** Register `child` under `parent`: 'WAITING', or the parent's final status, or 'missing'. */
  async attachChild(parent: string, child: string): Promise<TaskStatus | 'missing'> {
    const reply = await this.redis.eval(ATTACH_CHILD, 3, this.keys.task(parent), this.keys.children(parent), this.keys.waiting, child);
    return String(reply) as TaskStatus | 'missing';
  }

  /** Flag a QUEUED/RUNNING/DELAYED task for cancellation and tell the workers; returns the status it had. */
  async requestCancel(id: string): Promise<TaskStatus | 'missing'> {
    const status = String(await this.redis.eval(REQUEST_CANCEL, 1, this.keys.task(id))) as TaskStatus | 'missing';
    if (status === 'QUEUED' || status === 'RUNNING' || status === 'DELAYED') await this.redis.publish(this.keys.cancelChannel, id);
    return status;
  }

  /** Which of these tasks have a pending cancel request. */
  async cancelRequested(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.task(id), 'cancelRequested');
    const replies = (await pipeline.exec()) ?? [];
    return new Set(ids.filter((_, index) => replies[index]?.[1] === '1'));
  }

  /** Remove every key of a task (record, children set, log) and its index entries. */
  async remove(id: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.task(id), this.keys.children(id), this.keys.log(id))
      .zrem(this.keys.index, id)
      .srem(this.keys.waiting, id)
      .srem(this.keys.running, id)
      .exec();
  }
}
