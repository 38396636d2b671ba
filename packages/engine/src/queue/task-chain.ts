import { log as debug } from '../logging/index.js';
import { isTerminal, type TaskStatus } from '../model/index.js';
import type { TaskOutcome, TaskStore } from './task-store.js';

/** What the chain needs from the queue: putting a runnable task's stored job into BullMQ. */
export interface JobEnqueuer {
  enqueue(id: string, name: string, job: unknown): Promise<void>;
}

/**
 * Ends tasks and carries the outcome down their chains. A COMPLETE parent queues each waiting child
 * (its job exactly as its producer signed it: the worker that runs it derives its starting commit from
 * the parent's signed result, never from what the records say); a FAILED parent fails them and a
 * CANCELLED one cancels them, at any depth.
 */
export class TaskChain {
  constructor(
    private readonly store: TaskStore,
    private readonly jobs: JobEnqueuer,
  ) {}

  /**
   * Record how a task ended (unless it already had) and cascade to its children. Returns whether this
   * call ended the task.
   */
  async finish(id: string, outcome: TaskOutcome, options: { ifWorker?: string } = {}): Promise<boolean> {
    const children = await this.store.finish(id, outcome, options);
    if (children === undefined) return false;
    for (const child of children) await this.resolveChild(child, id, outcome.status);
    return true;
  }

  /** Act on a child whose parent has ended with `parentStatus`. */
  async resolveChild(childId: string, parentId: string, parentStatus: TaskStatus): Promise<void> {
    try {
      if (parentStatus === 'COMPLETE') await this.startChild(childId, parentId);
      else if (parentStatus === 'FAILED') await this.finish(childId, { status: 'FAILED', error: `parent task ${parentId} failed` });
      else if (parentStatus === 'CANCELLED') await this.finish(childId, { status: 'CANCELLED', error: `parent task ${parentId} was cancelled` });
    } catch (error) {
      // One broken child must not stop its siblings; record why it could not go on.
      debug.queue('[%s] cascade from %s failed: %O', childId, parentId, error);
      await this.finish(childId, { status: 'FAILED', error: `could not follow parent task ${parentId}: ${(error as Error).message}` });
    }
  }

  /**
   * Recovery sweep for WAITING tasks whose parent ended without cascading (a process died in between)
   * or was deleted. Safe to run any time and from any number of processes.
   */
  async sweepWaiting(): Promise<void> {
    for (const id of await this.store.waitingIds()) {
      const child = await this.store.read(id);
      if (child?.status !== 'WAITING' || child.parent === undefined) continue;
      const parent = await this.store.read(child.parent);
      if (parent === undefined) await this.finish(id, { status: 'FAILED', error: `parent task ${child.parent} no longer exists` });
      else if (isTerminal(parent.status)) await this.resolveChild(id, parent.id, parent.status);
    }
  }

  private async startChild(childId: string, parentId: string): Promise<void> {
    const [child, job] = await Promise.all([this.store.read(childId), this.store.readJob(childId)]);
    if (child === undefined || job === undefined) return;
    if ((await this.store.read(parentId)) === undefined) {
      await this.finish(childId, { status: 'FAILED', error: `parent task ${parentId} no longer exists` });
      return;
    }
    // Only one process moves the child on; a concurrent sweep or a cancel leaves it alone.
    if (!(await this.store.transition(childId, 'WAITING', 'QUEUED'))) return;
    try {
      await this.jobs.enqueue(childId, child.type, job);
    } catch (error) {
      await this.finish(childId, { status: 'FAILED', error: `could not queue: ${(error as Error).message}` });
    }
  }
}
