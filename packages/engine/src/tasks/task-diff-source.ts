import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { DiffUnavailableError } from '../errors/index.js';
import { isCommitHash } from '../git/git-values.js';
// The single module, not git/index.js: that loads nodegit, which a diff does not need.
import { taskDiff, type TaskDiff } from '../git/task-diff.js';
import { isTerminal } from '../model/index.js';
import { verifiedResult, type StoredTask } from '../queue/index.js';
import { openSignedJob, type KeyRing } from '../signing/index.js';

/** Where a task's diff is read from: the user's repository, the commit it started from and its result. */
export interface TaskDiffSource {
  repoPath: string;
  base: string;
  head: string;
  /** Its result branch: the worker-signed result's when it verifies, else the one the signed spec names. */
  branch: string;
  /** The result's commits are signed by a worker key of the ring (else they are the record's say-so). */
  resultVerified: boolean;
}

/**
 * Where the diff of queued task `id` comes from, or why it cannot be shown here. The repository is the
 * one its spec names, and only when the spec verifies against `ring` (a record rewritten in Redis must not
 * make this machine run git in a path of its choosing) and that path is a directory here. The commits are
 * the worker-signed result's when it verifies, else the record's (full hashes only; `taskDiff` checks
 * they are in the repository).
 *
 * @throws DiffUnavailableError saying why, with a hint
 */
export function taskDiffSource(stored: StoredTask, id: string, ring: KeyRing, exists: (path: string) => boolean = existsSync): TaskDiffSource {
  const { job, record } = stored;
  if (job === undefined || record === undefined) throw new DiffUnavailableError('missing', `No task ${id}`, { hint: 'see `tsk list`' });
  let spec;
  try {
    spec = openSignedJob(job, ring, id).spec;
  } catch (error) {
    throw new DiffUnavailableError('untrusted', `Task ${id}'s job does not verify against your keys: its diff is not read (${(error as Error).message})`, {
      hint: 'add the signer’s key (their `tsk key show`) to your trusted keys',
      cause: error,
    });
  }
  if (!isTerminal(record.status)) throw new DiffUnavailableError('no-result', `Task ${id} is ${record.status}: it has no result yet`, { hint: `\`tsk wait ${id}\`` });
  const claim = verifiedResult(record, ring);
  const base = claim?.baseCommit ?? record.baseCommit;
  const head = claim === undefined ? record.commit : claim.commit;
  if (head === undefined || base === undefined || !isCommitHash(head) || !isCommitHash(base)) {
    throw new DiffUnavailableError('no-result', `Task ${id} is ${record.status} and has no result commit: there is no diff`, {
      hint: record.status === 'COMPLETE' ? 'it changed nothing' : `\`tsk logs ${id}\` says why`,
    });
  }
  if (!isAbsolute(spec.repoPath) || !exists(spec.repoPath)) {
    throw new DiffUnavailableError('elsewhere', `the repository of task ${id} is on another machine (${spec.repoPath})`, {
      hint: `on that machine, or in a clone of its remote: \`tsk fetch ${id}\``,
    });
  }
  // A follow-up may have fast-forwarded its earlier task's branch: the signed result says which.
  return { repoPath: spec.repoPath, base, head, branch: claim?.branch ?? spec.branch, resultVerified: claim !== undefined };
}

export interface ReadTaskDiffOptions {
  /** Bytes of patch at most (see `taskDiff`). */
  maxBytes?: number;
  maxFiles?: number;
}

/**
 * The diff of task `id` from where it started to its result, read from the user's repository (see
 * {@link taskDiffSource}). A result still on a shared remote is `not-fetched`.
 *
 * @throws DiffUnavailableError, or GitCommandError when git fails
 */
export async function readTaskDiff(stored: StoredTask, id: string, ring: KeyRing, options: ReadTaskDiffOptions = {}): Promise<TaskDiff & { branch: string }> {
  const source = taskDiffSource(stored, id, ring);
  try {
    return { ...(await taskDiff({ ...source, ...options })), branch: source.branch };
  } catch (error) {
    if (error instanceof DiffUnavailableError && error.reason === 'not-fetched') {
      throw new DiffUnavailableError('not-fetched', `Task ${id}'s result is not in its repository on this machine`, { hint: `\`tsk fetch ${id}\` brings it home`, cause: error });
    }
    throw error;
  }
}
