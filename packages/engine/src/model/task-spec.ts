import type { TaskConfig } from '../config/resolved-config.js';
import type { AgentName } from './agent-name.js';

/** Where a worker gets the task's starting commit. */
export type TaskSource =
  /** The origin repository on this machine (snapshot ref `refs/tsk/snapshots/<id>`); only workers on the same machine can use it. */
  | { kind: 'local'; repoPath: string; ref: string; commit: string }
  /** A shared git remote: not designed yet, so {@link validateTaskSpec} refuses it. */
  | { kind: 'remote'; url: string; ref: string; commit: string };

/** The earlier task a follow-up continues: its id, its result branch (a `tsk/` branch) and result commit. */
export interface FollowUp {
  taskId: string;
  branch: string;
  commit: string;
}

/** Who queued a task: the name and public key of the key that signed it. */
export interface TaskSigner {
  name: string;
  /** `ed25519:<base64>`. */
  key: string;
}

/** The payload version this tsk writes and accepts. Version 1 payloads were unsigned. */
export const TASK_SPEC_VERSION = 2;

/**
 * The immutable description of one task: everything a worker, on this machine or another, needs to run
 * it. It is signed by the person who queued it (see `signing/`) and travels as the BullMQ job payload, so
 * it must stay JSON-serialisable; bump {@link TASK_SPEC_VERSION} on breaking changes.
 */
export interface TaskSpec {
  version: typeof TASK_SPEC_VERSION;
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
  /**
   * Where the task starts. For a chained task (`parentTaskId`) this is only the producer's snapshot: the
   * worker starts it from its parent's signed result instead.
   */
  source: TaskSource;
  /** Result branch, `tsk/<type>/<name>/<id>`. */
  branch: string;
  /** The branch the user was on (or `--branch`), recorded as git-town parent. */
  parentBranch: string | undefined;
  /** Parent task id when chained. */
  parentTaskId: string | undefined;
  /**
   * Labels the worker that runs it must have (`--requires gpu`; a worker's `[worker] labels`). A worker
   * without them hands the job back to the queue for another. Left out when the task requires none, so a
   * worker that knows no labels still runs it.
   */
  requires?: string[];
  /**
   * Instead of running an agent, push the result another task's worker kept after its own push failed
   * (`tsk retry --push`): that task's id and its result commit, as its worker signed it. Only the worker
   * whose mirror of the task's remote holds that commit under the task's result ref takes it; others hand
   * it back. Only with a remote source.
   */
  publishes?: { task: string; commit: string };
  /**
   * A follow-up (`--follow-up <id>`): the task starts from that earlier task's result commit (its source
   * commit is that commit), and its result fast-forwards the earlier task's branch when the branch still
   * points there (a compare-and-swap, never a force), else gets its own branch. Only with a local source.
   */
  followUp?: FollowUp;
  config: TaskConfig;
  createdAt: string;
  signer: TaskSigner;
}
