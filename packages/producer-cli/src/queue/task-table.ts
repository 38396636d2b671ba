import { oneLine, TASK_STATUSES } from '@tsk/engine/core';
import { taskDurationMs, type TaskView } from '@tsk/engine/queue';
import { colorStatus } from '../terminal-sink.js';
import { formatDuration } from './format-duration.js';
import { formatUsage } from './format-usage.js';

const HEADERS = ['ID', 'Name', 'Type', 'Status', 'Duration', 'Cost', 'Parent', 'Agent', 'By', 'Branch', 'Worker', 'Created'] as const;

/** `2024-05-01 14:03` in local time. */
function formatCreated(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** `14:05` today, `05-02 14:05` another day (local time). */
function formatTimeOfDay(iso: string, now: Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return date.toDateString() === now.toDateString() ? time : `${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

/** `until 14:05` for a DELAYED task (rate limited): when it goes back on the queue; else undefined. */
export function delayedUntilText(task: Pick<TaskView, 'status' | 'delayedUntil'>, now = new Date()): string | undefined {
  return task.status === 'DELAYED' && task.delayedUntil !== undefined ? `until ${formatTimeOfDay(task.delayedUntil, now)}` : undefined;
}

/** The status as `list` and `wait` show it: `DELAYED until 14:05`, else the status. */
export function statusText(task: Pick<TaskView, 'status' | 'delayedUntil'>, now = new Date()): string {
  const until = delayedUntilText(task, now);
  return until === undefined ? task.status : `${task.status} ${until}`;
}

/** A task's cells; every one is read from Redis, so each is made one line of plain text. */
function row(task: TaskView, now: Date): string[] {
  const cells = [
    task.id,
    // Tasks that bypass the proxy stand out in the list.
    task.noNetworkIsolation ? `${task.name} [no-net-iso]` : task.name,
    task.type,
    statusText(task, now),
    formatDuration(taskDurationMs(task, now)),
    formatUsage(task.usage),
    task.parent ?? '-',
    task.agent,
    // The name of the key that signed the task, as its producer wrote it (workers check the signature).
    task.signer?.slice(0, 64) ?? '-',
    // A result on the shared remote becomes this branch with `tsk fetch`.
    task.branch === undefined ? '-' : task.remote === undefined ? task.branch : `${task.branch} (remote)`,
    task.worker ?? '-',
    formatCreated(task.createdAt),
  ];
  return cells.map(oneLine);
}

/**
 * The `tsk list` table, one line per task; the status is coloured only when `tty`. When a queued task waits
 * for something in particular (a label, a machine), a last column says what.
 */
export function renderTaskTable(tasks: readonly TaskView[], tty: boolean, now = new Date()): string[] {
  const withNotes = tasks.some((task) => task.note !== undefined);
  const headers: readonly string[] = withNotes ? [...HEADERS, 'Note'] : HEADERS;
  const rows = tasks.map((task) => (withNotes ? [...row(task, now), oneLine(task.note ?? '-')] : row(task, now)));
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((cells) => cells[column]?.length ?? 0)));
  const line = (cells: readonly string[], colour: boolean) =>
    cells
      .map((cell, column) => {
        const padded = cell.padEnd(widths[column] ?? 0);
        // Pad first, colour after: escape codes must not count towards the width. The colour goes by the
        // status word (`DELAYED until 14:05`).
        if (!colour || headers[column] !== 'Status') return padded;
        const word = cell.split(' ')[0] ?? cell;
        return padded.replace(word, colorStatus(word, true));
      })
      .join('  ')
      .trimEnd();
  return [line(headers, false), ...rows.map((cells) => line(cells, tty))];
}

/** `5 tasks: 1 running, 2 queued, 2 complete` (statuses with no task are left out). */
export function summarizeTasks(tasks: readonly TaskView[]): string {
  if (tasks.length === 0) return 'No tasks';
  const parts = TASK_STATUSES.map((status) => [status, tasks.filter((task) => task.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status.toLowerCase()}`);
  return `${tasks.length} task${tasks.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
