import { oneLine } from '@tsk/engine/core';
import type { WorkerInfo } from '@tsk/engine/queue';
import { formatDuration } from './format-duration.js';

/** The object `tsk workers --json` prints per live worker (stable field names for scripts). */
export interface WorkerJson {
  name: string;
  host: string | null;
  pid: number | null;
  /** `running`, or `stopping`: told to stop, it takes no new task. */
  state: string;
  /** Tasks it runs at once. */
  capacity: number | null;
  runningCount: number;
  running: string[];
  labels: string[];
  version: string | null;
  startedAt: string | null;
  /** Its last heartbeat, by the Redis server's clock. */
  lastHeartbeat: string | null;
  /** How long ago that was, by the same clock. */
  lastHeartbeatAgoMs: number | null;
}

export function workerJson(worker: WorkerInfo): WorkerJson {
  return {
    name: worker.name,
    host: worker.host ?? null,
    pid: worker.pid ?? null,
    state: worker.state,
    capacity: worker.concurrency ?? null,
    runningCount: worker.running.length,
    running: worker.running,
    labels: worker.labels,
    version: worker.version ?? null,
    startedAt: worker.startedAt ?? null,
    lastHeartbeat: worker.lastBeat ?? null,
    lastHeartbeatAgoMs: worker.sinceBeatMs ?? null,
  };
}

const HEADERS = ['Name', 'Host', 'State', 'Tasks', 'Running', 'Labels', 'Version', 'Last beat'] as const;

/** A worker's cells; everything is read from Redis, so each is one line of plain text. */
function row(worker: WorkerInfo): string[] {
  const cells = [
    worker.name,
    worker.host ?? '-',
    worker.state,
    `${worker.running.length}/${worker.concurrency ?? '?'}`,
    worker.running.length > 0 ? worker.running.join(',') : '-',
    worker.labels.length > 0 ? worker.labels.join(',') : '-',
    worker.version ?? '-',
    worker.sinceBeatMs === undefined ? '-' : `${formatDuration(worker.sinceBeatMs)} ago`,
  ];
  return cells.map(oneLine);
}

/** The `tsk workers` table, one line per live worker. */
export function renderWorkerTable(workers: readonly WorkerInfo[]): string[] {
  const rows = workers.map(row);
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...rows.map((cells) => cells[column]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), ...rows.map(line)];
}

/** `2 workers: 3 of 4 task slots busy, 1 stopping` / `No workers`. */
export function summarizeWorkers(workers: readonly WorkerInfo[]): string {
  if (workers.length === 0) return 'No workers (start one with `tsk server start`)';
  const busy = workers.reduce((sum, worker) => sum + worker.running.length, 0);
  const slots = workers.reduce((sum, worker) => sum + (worker.concurrency ?? 0), 0);
  const stopping = workers.filter((worker) => worker.state === 'stopping').length;
  const count = `${workers.length} worker${workers.length === 1 ? '' : 's'}`;
  return `${count}: ${busy} of ${slots} task slot${slots === 1 ? '' : 's'} busy${stopping > 0 ? `, ${stopping} stopping` : ''}`;
}
