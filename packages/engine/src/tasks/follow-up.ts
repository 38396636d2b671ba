import { InputError } from '../errors/index.js';
import { resultHistory } from '../git/result-history.js';
import type { AgentName, FollowUp, TaskStatus } from '../model/index.js';
import { verifiedResult, type StoredTask } from '../queue/index.js';
import { openSignedJob, type KeyRing } from '../signing/index.js';
import { composeFollowUpInstructions } from '../templates/index.js';
import type { RunRecord } from './run-records.js';

/** The earlier task a follow-up continues, from wherever it was recorded (a run record, the queue). */
export interface EarlierTask {
  id: string;
  agent: AgentName;
  /** The origin repository its result went to: the follow-up must run on the same one. */
  repoPath: string;
  instructions: string;
  summary: string | undefined;
  /** Its result branch (its own, or the one it fast-forwarded) and result commit. */
  branch: string;
  commit: string;
  /** Where it started: the commits between this and `commit` are what it did. */
  baseCommit: string;
  /** The agent's session id, when the agent reported one (`tsk run` records only). */
  agentSessionId: string | undefined;
}

/** Why a task that ended `status` (or is still at it) cannot be followed up, as one line with a hint. */
function notFollowable(id: string, status: TaskStatus, error: string | undefined): InputError {
  switch (status) {
    case 'COMPLETE':
      return new InputError(`Task ${id} changed nothing: it has no result to follow up`, { hint: 'start a new task instead' });
    case 'FAILED':
    case 'CANCELLED':
      return new InputError(`Task ${id} is ${status}${error ? ` (${error.slice(0, 200)})` : ''}: a follow-up starts from a COMPLETE task's result`, {
        hint: `\`tsk retry ${id}\` runs it again`,
      });
    default:
      return new InputError(`Task ${id} is ${status}: a follow-up starts from a COMPLETE task's result`, { hint: `\`tsk wait ${id}\`, then follow it up` });
  }
}

/** The task a run record describes, when it can be followed up. @throws InputError when it cannot */
export function earlierFromRunRecord(record: RunRecord): EarlierTask {
  if (record.status !== 'COMPLETE' || record.branch === undefined || record.commit === undefined || record.baseCommit === undefined) {
    throw notFollowable(record.id, record.status, record.error);
  }
  return {
    id: record.id,
    agent: record.agent,
    repoPath: record.repoPath,
    instructions: record.instructions,
    summary: record.summary,
    branch: record.branch,
    commit: record.commit,
    baseCommit: record.baseCommit,
    agentSessionId: record.agentSessionId,
  };
}

/**
 * The queued task `id` as stored in Redis, when it can be followed up: its spec verified against the
 * user's keys (the instructions become part of the follow-up's, which the user signs), its result as
 * the worker that ran it signed it. Unsigned or unverifiable results, and tasks that went through a
 * shared remote, are refused. @throws InputError or TaskRefusedError saying why
 */
export function earlierFromQueue(stored: StoredTask, id: string, ring: KeyRing): EarlierTask {
  if (stored.record === undefined || stored.job === undefined) throw new InputError(`No task ${id} to follow up`, { hint: 'see `tsk list`' });
  const { spec } = openSignedJob(stored.job, ring, id);
  if (spec.source.kind === 'remote') {
    throw new InputError(`Task ${id} went through a shared remote: follow-ups of remote tasks are not supported yet`, {
      hint: `\`tsk fetch ${id}\`, then start a new task from its branch with --branch`,
    });
  }
  const status = stored.record.status;
  if (status !== 'COMPLETE') throw notFollowable(id, status, stored.record.error);
  const claim = verifiedResult(stored.record, ring);
  if (claim === undefined) {
    throw new InputError(`Task ${id}'s result is not signed by a worker key you trust: tsk will not start a follow-up from it`, { hint: 'add that worker’s key to your trusted keys' });
  }
  if (claim.commit === undefined || claim.branch === undefined || claim.baseCommit === undefined) throw notFollowable(id, 'COMPLETE', undefined);
  return {
    id,
    agent: spec.agent,
    repoPath: spec.repoPath,
    instructions: spec.instructions,
    summary: stored.record.summary,
    branch: claim.branch,
    commit: claim.commit,
    baseCommit: claim.baseCommit,
    agentSessionId: undefined,
  };
}

/**
 * What a follow-up of `earlier` in the repository `repoPath` (a main work tree) starts from and is told:
 * the spec's `followUp`, and its instructions (the earlier instructions, what was done, then `request`,
 * the new prompt already rendered through its template; for the `script` agent, whose instructions are
 * bash, all but the request as comments). What was done is computed with git from the user's repository. @throws InputError when the repository is another one or lacks the result
 */
export async function prepareFollowUp(earlier: EarlierTask, repoPath: string, request: string, agent: AgentName): Promise<{ followUp: FollowUp; instructions: string }> {
  if (earlier.repoPath !== repoPath) {
    throw new InputError(`Task ${earlier.id} worked on ${earlier.repoPath}, not ${repoPath}`, { hint: `follow it up there: --repo ${earlier.repoPath}` });
  }
  const history = await resultHistory(repoPath, earlier.baseCommit, earlier.commit);
  const commits = history.more > 0 ? [...history.commits, `… and ${history.more} more`] : history.commits;
  const instructions = composeFollowUpInstructions(
    { id: earlier.id, branch: earlier.branch, instructions: earlier.instructions, summary: earlier.summary, commits, diffstat: history.diffstat },
    request,
    { script: agent === 'script' },
  );
  return { followUp: { taskId: earlier.id, branch: earlier.branch, commit: earlier.commit }, instructions };
}
