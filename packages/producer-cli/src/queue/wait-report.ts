import { oneLine } from '@tsk/engine/core';
import { taskDurationMs, type TaskQueue, type TaskView } from '@tsk/engine/queue';
import { colorStatus } from '../terminal-sink.js';
import { formatDuration } from './format-duration.js';
import { formatUsage } from './format-usage.js';
import { delayedUntilText } from './task-table.js';

/** Log lines shown under each waited-for task. */
const TAIL_LINES = 5;

/**
 * What `tsk wait` prints per task: status, duration, branch or error, then its last log lines indented.
 */
export async function waitReport(queue: TaskQueue, tasks: readonly TaskView[], tty: boolean): Promise<string[]> {
  const lines: string[] = [];
  for (const task of tasks) {
    // Everything but the colours comes from Redis: shown as one line each, without terminal control.
    // A task stopped by its budget failed and still has its branch: both are said.
    const failure = task.status === 'FAILED' && task.branch !== undefined && task.error !== undefined ? `; ${task.error}` : '';
    const outcome = oneLine(task.branch ? `${resultPlace(task)}${failure}` : (task.note ?? (task.status === 'DELAYED' ? `rate limited, back in the queue ${delayedUntilText(task) ?? 'later'}` : undefined) ?? task.error ?? task.summary ?? 'no changes'));
    const usage = formatUsage(task.usage);
    lines.push(`${oneLine(task.id)} ${colorStatus(task.status, tty)} in ${formatDuration(taskDurationMs(task))}${usage === '-' ? '' : ` (${usage})`}: ${outcome}`);
    for (const entry of await queue.tailLog(task.id, TAIL_LINES)) lines.push(`    ${oneLine(entry.line)}`);
  }
  return lines;
}

/** Where a task's result is: a branch here, or a ref on the shared remote that `tsk fetch` makes a branch. */
export function resultPlace(task: TaskView): string {
  if (task.remote === undefined) return `branch ${task.branch ?? ''}`;
  if (task.status !== 'COMPLETE') return `result refs/tsk/results/${task.id} kept by worker ${task.worker ?? '?'}`;
  return `refs/tsk/results/${task.id} on ${task.remote} (tsk fetch ${task.id} makes it branch ${task.branch ?? ''})`;
}

/** Exit code of `tsk wait` and `tsk add -w`: 0 only when every task is COMPLETE. */
export function waitExitCode(tasks: readonly TaskView[]): number {
  return tasks.every((task) => task.status === 'COMPLETE') ? 0 : 1;
}
