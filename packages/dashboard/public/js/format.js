// How the page writes a task's facts: the same words and units as `tsk list` where it has them.

/** The list's groups, in the order the page shows them, and the statuses each holds. */
export const GROUPS = [
  { key: 'queued', title: 'Queued', statuses: ['QUEUED', 'WAITING', 'DELAYED'] },
  { key: 'running', title: 'Running', statuses: ['RUNNING'] },
  { key: 'done', title: 'Done', statuses: ['COMPLETE', 'FAILED', 'CANCELLED'] },
];

export const STATUSES = GROUPS.flatMap((group) => group.statuses);

const TERMINAL = new Set(['COMPLETE', 'FAILED', 'CANCELLED']);

/** Whether a status is final (the task will not change again but by retry or delete). */
export function isTerminal(status) {
  return TERMINAL.has(status);
}

/** The group key of a status (an unknown status from a newer tsk counts as queued). */
export function groupOf(status) {
  return GROUPS.find((group) => group.statuses.includes(status))?.key ?? 'queued';
}

/** `1h02m`, `3m05s`, `12s`, or `-`. */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '-';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** A task's duration: its own figure, or for a running task the time since it started. */
export function taskDuration(task, now = Date.now()) {
  if (typeof task.durationMs === 'number') return formatDuration(task.durationMs);
  if (task.status === 'RUNNING' && task.startedAt) return formatDuration(now - Date.parse(task.startedAt));
  return '-';
}

/** `1.2k`, `3.4M` */
export function formatTokens(count) {
  if (typeof count !== 'number' || !Number.isFinite(count)) return '';
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(1)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

/** `$0.42 · 12.0k/3.1k tok`, or `-` when the agent reported nothing. */
export function formatCost(task) {
  const parts = [];
  if (typeof task.costUsd === 'number' && Number.isFinite(task.costUsd)) parts.push(`$${task.costUsd.toFixed(2)}`);
  if (typeof task.inputTokens === 'number' || typeof task.outputTokens === 'number') {
    parts.push(`${formatTokens(task.inputTokens ?? 0)}/${formatTokens(task.outputTokens ?? 0)} tok`);
  }
  return parts.length > 0 ? parts.join(' · ') : '-';
}

/** `12s ago`, `3m ago`, from a count of milliseconds. */
export function formatAgo(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  return `${formatDuration(Math.max(0, ms))} ago`;
}

/** A date as the reader's local time, or `-`. */
export function formatTime(iso) {
  if (!iso) return '-';
  const time = Date.parse(iso);
  return Number.isNaN(time) ? '-' : new Date(time).toLocaleString();
}
