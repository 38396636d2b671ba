import { boundedSink } from '../logging/index.js';
import type { TaskStatus } from '../model/index.js';
import type { QueueCore } from './queue-core.js';
import { taskLogWriter } from './task-log.js';

/** BullMQ's reason for a job whose lock expired (its worker died) with `maxStalledCount: 0`. */
export const STALLED_REASON = 'job stalled more than allowable limit';

/** The reason a task of a dead worker failed with. */
export function workerLostReason(worker: string | undefined): string {
  return `worker ${worker ?? '(unknown)'} lost`;
}

/**
 * The "worker lost" rule, the one place it is written: a task is lost with its worker when it is RUNNING
 * on a worker whose heartbeat is gone. `heartbeat(name)` says whether that worker's heartbeat exists
 * (undefined: not known, so not lost). Returns the lost worker's name, or undefined.
 */
export function lostWith(task: { status: TaskStatus; worker: string | undefined }, heartbeat: (worker: string) => boolean | undefined): string | undefined {
  if (task.status !== 'RUNNING' || task.worker === undefined) return undefined;
  return heartbeat(task.worker) === false ? task.worker : undefined;
}

/** A task whose worker was lost, as it was settled. */
export interface LostTask {
  task: string;
  worker: string;
  /** Re-queued (`requeue_lost`) rather than FAILED. */
  requeued: boolean;
}

/**
 * Acting on the rule: every way a task is found lost (a sweep of RUNNING tasks, BullMQ failing a stalled
 * job, a job coming back after its worker died, a worker about to publish a result) asks here. After this
 * process's connection to Redis (re)connects, nobody is judged lost for `settleMs`: when Redis itself
 * restarted, every worker's heartbeat lapsed and they need a moment to beat again.
 */
export class LostWorkers {
  private readySince = Date.now();

  constructor(private readonly core: QueueCore) {
    core.redis.on('ready', () => {
      this.readySince = Date.now();
    });
  }

  /** Registered workers other than `self` whose heartbeat is gone; none while settling. */
  async deadWorkers(self: string, settleMs: number): Promise<Set<string>> {
    if (this.settling(settleMs)) return new Set();
    const names = await this.core.registry.names();
    const alive = await this.core.registry.alive(names);
    return new Set(names.filter((name) => name !== self && alive.get(name) === false));
  }

  /**
   * RUNNING tasks of lost workers (other than `self`) become FAILED "worker <name> lost", or QUEUED again
   * with `requeue`; each gets a line in its log. Returns what this call changed (first writer wins).
   */
  async settleTasks(self: string, settleMs: number, requeue: boolean): Promise<LostTask[]> {
    if (this.settling(settleMs)) return [];
    const { store, registry } = this.core;
    const records = await store.readMany(await store.runningIds());
    const alive = await registry.alive(records.flatMap((record) => (record.worker ? [record.worker] : [])));
    const settled: LostTask[] = [];
    for (const record of records) {
      const worker = lostWith(record, (name) => alive.get(name));
      if (worker === undefined || worker === self) continue;
      if (await this.settle(record.id, worker, requeue)) settled.push({ task: record.id, worker, requeued: requeue });
    }
    return settled;
  }

  /**
   * BullMQ failed a job because its lock expired: the task is lost when its worker's heartbeat is gone too.
   * A worker that is alive only lost its lock (it was unresponsive for a while): it still runs the task and
   * records the real outcome itself; BullMQ's verdict concerns the job, not the task.
   */
  async settleStalled(taskId: string, failedReason: string): Promise<LostTask | undefined> {
    if (!failedReason.includes(STALLED_REASON)) return undefined;
    const record = await this.core.store.read(taskId);
    if (record === undefined) return undefined;
    const alive = await this.core.registry.alive(record.worker === undefined ? [] : [record.worker]);
    const worker = lostWith(record, (name) => alive.get(name));
    if (worker === undefined) return undefined;
    return (await this.settle(taskId, worker, false)) ? { task: taskId, worker, requeued: false } : undefined;
  }

  /** Whether `worker` is lost: registered once, its heartbeat now gone. */
  async isLost(worker: string): Promise<boolean> {
    return (await this.core.registry.alive([worker])).get(worker) === false;
  }

  /**
   * Why `worker` no longer owns the task, or undefined while it does: its own heartbeat lapsed (it is or
   * will be declared lost), or the task ended or moved on without it. Asked before anything leaves the
   * machine on the task's behalf (a result pushed to a shared remote).
   */
  async ownership(taskId: string, worker: string): Promise<string | undefined> {
    const [record, alive] = await Promise.all([this.core.store.read(taskId), this.core.registry.alive([worker])]);
    if (alive.get(worker) !== true) return `worker ${worker} lost its heartbeat: it was or will be declared lost`;
    if (record?.status !== 'RUNNING' || record.worker !== worker) return `the task ended without worker ${worker} (${record?.status ?? 'deleted'})`;
    return undefined;
  }

  private settling(settleMs: number): boolean {
    return Date.now() - this.readySince < settleMs;
  }

  private async settle(taskId: string, worker: string, requeue: boolean): Promise<boolean> {
    const reason = workerLostReason(worker);
    const stream = taskLogWriter(this.core.redis, this.core.keys, taskId);
    // The worker's name comes from Redis.
    const log = boundedSink(stream);
    log.write('warn', requeue ? `${reason}; re-queued` : reason);
    await stream.flush();
    if (requeue) return this.core.store.transition(taskId, 'RUNNING', 'QUEUED');
    return this.core.chain.finish(taskId, { status: 'FAILED', error: reason }, { ifWorker: worker });
  }
}
