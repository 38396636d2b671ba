import { log as debug } from '../logging/index.js';
import { isTerminal, type TaskSpec, type TaskStatus } from '../model/index.js';
import { sourceAt } from './snapshot-pin.js';
import type { TaskOutcome, TaskStore } from './task-store.js';

/** What the chain needs from the queue: putting a runnable task's job into BullMQ. */
export interface JobEnqueuer {
  enqueue(spec: TaskSpec): Promise<void>;
}

/**
 * Ends tasks and carries the outcome down their chains. A COMPLETE parent starts each waiting child
 * from its result commit (or, when it changed nothing, from the commit it started from); a FAILED parent
 * fails them and a CANCELLED one cancels them, at any depth.
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
    const [parent, parentSpec, child] = await Promise.all([this.store.read(parentId), this.store.readSpec(parentId), this.store.readSpec(childId)]);
    if (child === undefined) return;
    if (parent === undefined || parentSpec === undefined) {
      await this.finish(childId, { status: 'FAILED', error: `parent task ${parentId} no longer exists` });
      return;
    }
    // The parent's result when it made changes, else the commit the parent itself started from.
    const commit = parent.commit ?? parentSpec.source.commit;
    const remoteRef = parent.branch !== undefined ? `refs/heads/${parent.branch}` : parentSpec.source.ref;
    const source = await sourceAt(child.source, childId, commit, remoteRef);
    const spec: TaskSpec = { ...child, source, parentBranch: parent.branch ?? parentSpec.parentBranch };
    // Only one process moves the child on; a concurrent sweep or a cancel leaves it alone.
    if (!(await this.store.transition(childId, 'WAITING', 'QUEUED', { spec: JSON.stringify(spec) }))) return;
    try {
      await this.jobs.enqueue(spec);
    } catch (error) {
      await this.finish(childId, { status: 'FAILED', error: `could not queue: ${(error as Error).message}` });
    }
  }
}
