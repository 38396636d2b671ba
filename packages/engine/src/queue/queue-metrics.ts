import { stripControl } from '../common/index.js';
import { isAgentName, isTerminal, TASK_STATUSES, type TaskStatus } from '../model/index.js';
import type { TaskView } from './task-view.js';
import type { WorkerInfo } from './worker-registry.js';

/*
 * What the queue looks like in numbers, for Prometheus (the dashboard's `/metrics`). Computed from the same
 * views `tsk list` and `tsk workers` print, so the two never disagree. Label values come from task records
 * (anyone with Redis access writes them): each label has a bounded set of values, or a scrape could be
 * made to hold millions of series.
 */

/** Projects shown by name (the ones with most tasks); the rest count under {@link OTHER}. */
export const METRICS_MAX_PROJECTS = 50;
/** Workers shown by name; the rest are in the totals only. */
export const METRICS_MAX_WORKERS = 200;
export const OTHER = 'other';

/** One group of tasks sharing a state, project and agent. */
export interface TaskGroupMetrics {
  state: TaskStatus;
  project: string;
  agent: string;
  count: number;
  /** Sum of the agents' reported cost (US dollars) and tokens, where known. */
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

export interface WorkerMetrics {
  name: string;
  state: WorkerInfo['state'];
  /** Its concurrency (0 when it does not report one). */
  capacity: number;
  running: number;
}

export interface QueueMetrics {
  /** Every non-empty group, and a zero group per state with no task (so each state's series exists). */
  tasks: TaskGroupMetrics[];
  /** Seconds each ended task ran (started → finished), by its final state. */
  durations: { state: TaskStatus; seconds: number }[];
  /** Seconds each started task waited in the queue (created → started). */
  queueWaits: number[];
  workers: WorkerMetrics[];
  /** Totals over every live worker (also those beyond {@link METRICS_MAX_WORKERS}). */
  capacity: number;
  running: number;
  workerCount: number;
  /** Live workers told to stop (they take no new task). */
  stoppingCount: number;
}

/** A label value from a record: one printable line of at most 64 characters. */
function labelText(value: string): string {
  const text = stripControl(value).trim().slice(0, 64);
  return text === '' ? 'none' : text;
}

function seconds(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

/** The queue's numbers from `tasks` (`TaskQueue.list()`) and `workers` (`TaskQueue.workers()`). */
export function queueMetrics(tasks: readonly TaskView[], workers: readonly WorkerInfo[]): QueueMetrics {
  const perProject = new Map<string, number>();
  for (const task of tasks) perProject.set(labelText(task.project), (perProject.get(labelText(task.project)) ?? 0) + 1);
  const named = new Set(
    [...perProject.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, METRICS_MAX_PROJECTS)
      .map(([project]) => project),
  );
  const groups = new Map<string, TaskGroupMetrics>();
  const durations: QueueMetrics['durations'] = [];
  const queueWaits: number[] = [];
  for (const task of tasks) {
    const project = named.has(labelText(task.project)) ? labelText(task.project) : OTHER;
    const agent = isAgentName(task.agent) ? task.agent : OTHER;
    const key = JSON.stringify([task.status, project, agent]);
    const group = groups.get(key) ?? { state: task.status, project, agent, count: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 };
    group.count += 1;
    group.costUsd += finite(task.usage.costUsd);
    group.inputTokens += finite(task.usage.inputTokens);
    group.outputTokens += finite(task.usage.outputTokens);
    groups.set(key, group);
    const ran = isTerminal(task.status) ? seconds(task.startedAt, task.finishedAt) : undefined;
    if (ran !== undefined) durations.push({ state: task.status, seconds: ran });
    const waited = seconds(task.createdAt, task.startedAt);
    if (waited !== undefined) queueWaits.push(waited);
  }
  const present = new Set([...groups.values()].map((group) => group.state));
  const empty = TASK_STATUSES.filter((state) => !present.has(state)).map((state) => ({ state, project: 'none', agent: 'none', count: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 }));
  const workerMetrics = workers.map((worker) => ({ name: labelText(worker.name), state: worker.state, capacity: worker.concurrency ?? 0, running: worker.running.length }));
  return {
    tasks: [...groups.values(), ...empty],
    durations,
    queueWaits,
    workers: workerMetrics.slice(0, METRICS_MAX_WORKERS),
    capacity: workerMetrics.reduce((sum, worker) => sum + worker.capacity, 0),
    running: workerMetrics.reduce((sum, worker) => sum + worker.running, 0),
    workerCount: workerMetrics.length,
    stoppingCount: workerMetrics.filter((worker) => worker.state === 'stopping').length,
  };
}

/** A reported number, or 0 when it is missing or not a finite non-negative number (records are hostile). */
function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : 0;
}
