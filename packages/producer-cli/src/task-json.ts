import type { TaskResult, TaskSpec } from '@tsk/engine';

/** The object `--json` prints for a task (stable field names for scripts). */
export interface TaskJson {
  id: string;
  name: string;
  type: string;
  agent: string;
  stack: string;
  project: string;
  status: string;
  branch: string | null;
  commit: string | null;
  error: string | null;
  summary: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export function taskJson(spec: TaskSpec, result: TaskResult): TaskJson {
  return {
    id: spec.id,
    name: spec.name,
    type: spec.type,
    agent: spec.agent,
    stack: spec.stack,
    project: spec.project,
    status: result.status,
    branch: result.branch ?? null,
    commit: result.commit ?? null,
    error: result.error ?? null,
    summary: result.summary ?? null,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
  };
}
