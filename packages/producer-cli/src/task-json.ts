import type { TaskResult, TaskSpec } from '@tsk/engine/core';
import { taskViewJson, type TaskViewJson } from '@tsk/engine/queue';

/** The `--json` object of a task run inline by `tsk run`: the same shape as a queued task's. */
export function taskJson(spec: TaskSpec, result: TaskResult): TaskViewJson {
  return taskViewJson({
    id: spec.id,
    status: result.status,
    name: spec.name,
    type: spec.type,
    agent: spec.agent,
    stack: spec.stack,
    project: spec.project,
    parent: spec.parentTaskId,
    createdAt: spec.createdAt,
    worker: undefined,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    branch: result.branch,
    commit: result.commit,
    error: result.error,
    summary: result.summary,
    noNetworkIsolation: !spec.config.networkIsolation,
    signer: spec.signer.name,
    baseCommit: result.baseCommit,
    resultSignature: undefined,
    resultSigner: undefined,
    requires: spec.requires ?? [],
    note: undefined,
    remote: undefined,
    usage: result.usage ?? {},
    delayedUntil: undefined,
    delays: 0,
  });
}
