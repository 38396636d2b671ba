export const TASK_STATUSES = ['QUEUED', 'WAITING', 'RUNNING', 'COMPLETE', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['COMPLETE', 'FAILED', 'CANCELLED'];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
