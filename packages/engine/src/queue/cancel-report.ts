import { oneLine } from '../common/index.js';
import { isTerminal } from '../model/index.js';
import type { CancelOutcome, TaskQueue } from './task-queue.js';
import type { TaskView } from './task-view.js';

/**
 * Cancel a task as `tsk cancel` and the dashboard do: tell the queue, give a running task's worker up to
 * `stopWaitMs` to stop it, and say what happened in one line (undefined for a task the queue does not know).
 */
export async function cancelTask(queue: TaskQueue, task: TaskView, stopWaitMs: number): Promise<{ report: string | undefined; task: TaskView }> {
  const outcome = await queue.cancel(task.id);
  const [after] = outcome.kind === 'stopping' ? await queue.waitFor([task.id], { timeoutMs: stopWaitMs }) : [];
  return { report: cancelReport(task, outcome, after), task: (await queue.get(task.id)) ?? task };
}

/**
 * What `tsk cancel` says about one task, from what the queue did with it (`outcome`) and, for a running
 * task, how it stands once its worker was told (`after`). A running task whose agent had already finished
 * when the cancel reached its worker ends as it finished (its result collected, COMPLETE or FAILED), and one
 * lost with its worker meanwhile ends FAILED: either is said as such, with why, never "Cancelled". Undefined
 * for a task the queue does not know.
 */
export function cancelReport(task: Pick<TaskView, 'id' | 'worker'>, outcome: CancelOutcome, after: Pick<TaskView, 'status' | 'error'> | undefined): string | undefined {
  // Ids, statuses and worker names come from Redis.
  const id = oneLine(task.id);
  switch (outcome.kind) {
    case 'missing':
      return undefined;
    case 'ended':
      return `${id} had already ended (${oneLine(outcome.status)})`;
    case 'cancelled':
      return `Cancelled ${id}`;
    case 'stopping': {
      if (after === undefined || !isTerminal(after.status)) return `Stopping ${id}: its worker has been told`;
      const where = task.worker ? ` on ${oneLine(task.worker)}` : '';
      if (after.status === 'CANCELLED') return `Cancelled ${id} (was running${where})`;
      const why = after.status === 'COMPLETE' ? 'its agent had finished' : (after.error ?? 'its agent had finished');
      return `${id} ended ${oneLine(after.status)}${where} before it could be cancelled: ${oneLine(why)}`;
    }
  }
}
