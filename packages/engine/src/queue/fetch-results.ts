// git/remote.js, not git/index.js: the index loads nodegit, which fetching results does not need.
import { fetchResult } from '../git/remote.js';
import { TskError } from '../errors/index.js';
import { isTerminal } from '../model/index.js';
import { openSignedJob, type KeyRing } from '../signing/index.js';
import { verifiedResult } from './task-record.js';
import type { TaskQueue } from './task-queue.js';

/** What `tsk fetch` did for one task. */
export type FetchOutcome =
  | { id: string; kind: 'fetched' | 'up-to-date'; branch: string; commit: string }
  | { id: string; kind: 'skipped'; reason: string };

export interface FetchResultsOptions {
  /** The user's repository (main work tree), which receives the branches. */
  repoPath: string;
  /** Tasks to fetch; undefined: every ended task of `repoPath` with a result on a shared remote. */
  ids?: readonly string[];
  /** The user's keys: a task's job and its worker's result must verify against them. */
  ring: KeyRing;
}

/**
 * Bring results from the shared remote into the user's repository as their `tsk/…` branches. Only what
 * verifies is fetched: the task's job (which names the remote and the branch) signed by a trusted key,
 * and its result commit signed by a trusted worker, so neither a rewritten record nor a moved ref on the
 * remote can put someone else's commit under a task's branch.
 */
export async function fetchTaskResults(queue: TaskQueue, options: FetchResultsOptions): Promise<FetchOutcome[]> {
  const ids = options.ids ?? (await queue.list()).filter((task) => task.remote !== undefined && isTerminal(task.status)).map((task) => task.id);
  const outcomes: FetchOutcome[] = [];
  for (const id of ids) {
    const outcome = await fetchOne(queue, id, options);
    // Without ids, tasks of other repositories are not the user's concern here.
    if (options.ids !== undefined || outcome.kind !== 'skipped' || !outcome.reason.startsWith('it works on')) outcomes.push(outcome);
  }
  return outcomes;
}

async function fetchOne(queue: TaskQueue, id: string, options: FetchResultsOptions): Promise<FetchOutcome> {
  const skip = (reason: string): FetchOutcome => ({ id, kind: 'skipped', reason });
  const { job, record } = await queue.stored(id);
  if (job === undefined || record === undefined) return skip('no such task');
  let spec;
  try {
    spec = openSignedJob(job, options.ring, id).spec;
  } catch (error) {
    return skip(`its job does not verify (${(error as Error).message})`);
  }
  if (spec.repoPath !== options.repoPath) return skip(`it works on ${spec.repoPath}`);
  if (spec.source.kind !== 'remote') return skip('it did not go through a shared remote: its branch is made in the repository directly');
  if (record.status !== 'COMPLETE') return skip(`it is ${record.status}`);
  const claim = verifiedResult(record, options.ring);
  if (claim === undefined) {
    return skip(`its result is not signed by a worker you trust (signed by ${record.resultSigner ?? 'nobody'}: add the worker's key, from its \`tsk key show\`, to [worker] trusted_keys)`);
  }
  if (claim.commit === undefined) return skip('it made no changes');
  try {
    const created = await fetchResult({ repoPath: options.repoPath, url: spec.source.url, taskId: id, commit: claim.commit, branch: spec.branch });
    return { id, kind: created ? 'fetched' : 'up-to-date', branch: spec.branch, commit: claim.commit };
  } catch (error) {
    return skip(error instanceof TskError ? error.userMessage : (error as Error).message);
  }
}
