import type { TaskConfig } from '../config/resolved-config.js';
import type { AgentName } from './agent-name.js';

/** Where a worker gets the task's starting commit. */
export type TaskSource =
  /** The origin repository on this machine; only workers on the same machine can use it. */
  | { kind: 'local'; repoPath: string; ref: string; commit: string }
  /** A shared git remote the producer pushed the snapshot ref to. */
  | { kind: 'remote'; url: string; ref: string; commit: string };

/**
 * The immutable description of one task: everything a worker, on this machine or another, needs to run
 * it. It is the BullMQ job payload, so it must stay JSON-serialisable; bump `version` on breaking changes.
 */
export interface TaskSpec {
  version: 1;
  /** 8 characters of [A-Za-z0-9_], never starting with '-'. */
  id: string;
  name: string;
  type: string;
  agent: AgentName;
  /** Resolved stack (auto-detected at creation when not configured). */
  stack: string;
  project: string;
  /** Rendered instructions given to the agent. */
  instructions: string;
  /** The origin repository the result branch goes back to (main repository of a worktree). */
  repoPath: string;
  source: TaskSource;
  /** Result branch, `tsk/<type>/<name>/<id>`. */
  branch: string;
  /** The branch the user was on (or `--branch`), recorded as git-town parent. */
  parentBranch: string | undefined;
  /** Parent task id when chained. */
  parentTaskId: string | undefined;
  config: TaskConfig;
  createdAt: string;
}
