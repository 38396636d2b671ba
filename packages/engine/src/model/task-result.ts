import type { TaskStatus } from './task-state.js';

/**
 * How a task ended: the one outcome shape, from the runner (`TaskRunner.run`) to the record (the queue's
 * `TaskOutcome` is this without id and start), the view and `--json`. `branch` is set only when the task
 * produced changes and they reached the origin (or the shared remote).
 */
export interface TaskResult {
  id: string;
  status: Extract<TaskStatus, 'COMPLETE' | 'FAILED' | 'CANCELLED'>;
  /** Result branch name, or undefined when nothing changed or the task did not complete. */
  branch: string | undefined;
  /** The result commit (tip of the branch). */
  commit: string | undefined;
  /** The commit the task started from, once its workspace was made (a chained task's children start here when it changed nothing). */
  baseCommit: string | undefined;
  /** Failure or cancellation reason, or "No changes" notes. */
  error: string | undefined;
  /** Human-readable outcome: "No changes", the agent summary… */
  summary: string | undefined;
  /** What the agent spent, as far as it reports it. */
  usage?: AgentUsage;
  /**
   * Set when the agent hit its API's rate or usage limit: the task is not a failure but goes back to the
   * queue until then (ISO time).
   */
  retryAt?: string;
  /** The agent's session id, when its transcript was kept to be resumed (`tsk run`'s `session.keepTo`). */
  agentSessionId?: string;
  startedAt: string;
  finishedAt: string;
}

/** Cost and tokens of one agent run. Claude reports its cost; Codex only tokens. */
export interface AgentUsage {
  /** US dollars: the agent's reported total, or tsk's estimate from token counts and published prices while it runs. */
  costUsd?: number;
  inputTokens?: number;
  outputTokens?: number;
}
