/**
 * A task's states. DELAYED: its agent hit its API's rate or usage limit; the task is back in the queue
 * until a given time, then runs again from its snapshot (not a failure, not an ended task).
 */
export const TASK_STATUSES = ['QUEUED', 'WAITING', 'RUNNING', 'DELAYED', 'COMPLETE', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['COMPLETE', 'FAILED', 'CANCELLED'];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
