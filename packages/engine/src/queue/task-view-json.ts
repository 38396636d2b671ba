import { taskDurationMs, type TaskView } from './task-view.js';

/** The object `--json` prints for a queued task (stable field names for scripts). */
export interface TaskViewJson {
  id: string;
  name: string;
  type: string;
  agent: string;
  stack: string;
  project: string;
  status: string;
  parent: string | null;
  branch: string | null;
  commit: string | null;
  /** The shared remote the task went through; its result is `resultRef` there (`tsk fetch` makes it `branch`). */
  remote: string | null;
  resultRef: string | null;
  error: string | null;
  summary: string | null;
  worker: string | null;
  /** The name of the key that signed it (who queued it). */
  queuedBy: string | null;
  /** Worker labels it requires (`--requires`). */
  requires: string[];
  /** What a QUEUED task waits for ("no worker with label gpu seen in the last 10 min"), else null. */
  note: string | null;
  /** When a DELAYED task (its agent was rate limited) goes back on the queue (ISO), else null. */
  delayedUntil: string | null;
  /** How many times the task went back to the queue rate limited. */
  delays: number;
  /** What the agent spent: US dollars (Claude reports it) and tokens, where known. */
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export function taskViewJson(task: TaskView): TaskViewJson {
  return {
    id: task.id,
    name: task.name,
    type: task.type,
    agent: task.agent,
    stack: task.stack,
    project: task.project,
    status: task.status,
    parent: task.parent ?? null,
    branch: task.branch ?? null,
    commit: task.commit ?? null,
    remote: task.remote ?? null,
    resultRef: task.remote !== undefined && task.commit !== undefined ? `refs/tsk/results/${task.id}` : null,
    error: task.error ?? null,
    summary: task.summary ?? null,
    worker: task.worker ?? null,
    queuedBy: task.signer ?? null,
    requires: task.requires,
    note: task.note ?? null,
    delayedUntil: task.status === 'DELAYED' ? (task.delayedUntil ?? null) : null,
    delays: task.delays,
    costUsd: task.usage.costUsd ?? null,
    inputTokens: task.usage.inputTokens ?? null,
    outputTokens: task.usage.outputTokens ?? null,
    createdAt: task.createdAt,
    startedAt: task.startedAt ?? null,
    finishedAt: task.finishedAt ?? null,
    durationMs: taskDurationMs(task) ?? null,
  };
}
