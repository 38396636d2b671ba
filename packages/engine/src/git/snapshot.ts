import { isTaskId } from '../common/ids.js';
import { GitCommandError } from '../errors/git-command-error.js';
import { InputError } from '../errors/input-error.js';
import { silentSink, type LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import { runGit, tryGit } from './git-cli.js';
import { resolveRepository, type RepositoryInfo } from './repository.js';
import { snapshotRef } from './snapshot-ref.js';
import { snapshotWorkingTree } from './working-tree.js';

export { snapshotRef };

/** What to snapshot, and under which task id. */
export interface CreateSnapshotOptions {
  /** Any path inside the repository; a linked worktree is snapshotted, its main repository keeps the ref. */
  repoPath: string;
  /** The task id; names the ref `refs/tsk/snapshots/<taskId>`. */
  taskId: string;
  /**
   * Snapshot this branch's commit instead of the working tree (`--branch`). A local branch name, or a
   * remote-tracking one such as `origin/main`.
   */
  branch?: string | undefined;
  /**
   * Snapshot this commit of the repository, building on `branch` (a follow-up starts from its earlier
   * task's result commit, whatever that task's branch points at now). Not with {@link branch}.
   */
  startAt?: { commit: string; branch: string } | undefined;
  /** Receives user-facing progress lines. @defaultValue silentSink */
  log?: LogSink;
}

/** A task's starting point, kept under a ref so it outlives the user's next commit, reset or gc. */
export interface Snapshot {
  /** The main repository's work tree: where the ref lives and where the result branch will go. */
  repoPath: string;
  commit: string;
  /** `refs/tsk/snapshots/<taskId>`. */
  ref: string;
  /** The branch the task builds on: `--branch`, else the current branch (undefined when detached). */
  parentBranch: string | undefined;
}

function checkTaskId(taskId: string): void {
  // The id becomes part of a ref name: anything outside the id alphabet could escape `refs/tsk/`.
  if (!isTaskId(taskId)) throw new InputError(`invalid task id "${taskId}": expected 8 characters of [A-Za-z0-9_]`);
}

/**
 * Git in the repository's common directory: refs under `refs/tsk/` are shared by all its worktrees. No
 * hook runs (`update-ref` would run the repository's `reference-transaction` hook): tsk's own refs are
 * written as libgit2 wrote them before, without running anything of the repository's.
 */
function inCommonDir(info: RepositoryInfo): (args: string[]) => string[] {
  return (args) => ['-c', 'core.hooksPath=/dev/null', '--git-dir', info.commonDir, ...args];
}

/** The commit `name` (a full ref name) points at, or undefined when there is no such ref. */
async function refCommit(info: RepositoryInfo, name: string): Promise<string | undefined> {
  const found = await tryGit(inCommonDir(info)(['rev-parse', '--quiet', '--verify', '--end-of-options', `${name}^{commit}`]), { cwd: info.workdir });
  return found?.trim() || undefined;
}

async function branchCommit(info: RepositoryInfo, branch: string): Promise<string> {
  const candidates = branch.startsWith('refs/') ? [branch] : [`refs/heads/${branch}`, `refs/remotes/${branch}`];
  for (const name of candidates) {
    const commit = await refCommit(info, name);
    if (commit !== undefined) return commit;
  }
  if (info.head === undefined && (await runGit(inCommonDir(info)(['for-each-ref', '--count=1']), { cwd: info.workdir })).trim() === '') {
    throw new InputError(`${info.mainWorkdir} has no commits yet, so it has no branch ${branch}`);
  }
  throw new InputError(`branch ${branch} not found in ${info.mainWorkdir}`);
}

/** `commit` when the repository has it as a commit. */
async function existingCommit(info: RepositoryInfo, commit: string): Promise<string> {
  const found = /^[0-9a-f]{40}$/.test(commit) ? await refCommit(info, commit) : undefined;
  if (found !== commit) {
    throw new InputError(`commit ${commit.slice(0, 40)} is not in ${info.mainWorkdir}`, { hint: 'with a shared remote, `tsk fetch <id>` brings a result home' });
  }
  return commit;
}

/**
 * Record the task's starting commit under `refs/tsk/snapshots/<taskId>` in the main repository.
 *
 * Without `branch` this is the working tree as it is (tracked edits staged or not, deletions, untracked
 * files; never ignored ones), committed without touching the user's index, HEAD, work tree or branches.
 * With `branch` it is that branch's commit. Throws {@link InputError} for a path outside a repository,
 * a bare repository or an unknown branch, and {@link GitCommandError} when git fails.
 */
export async function createSnapshot(options: CreateSnapshotOptions): Promise<Snapshot> {
  checkTaskId(options.taskId);
  const sink = options.log ?? silentSink;
  const info = await resolveRepository(options.repoPath);
  const ref = snapshotRef(options.taskId);

  let commit: string;
  let parentBranch: string | undefined;
  if (options.startAt !== undefined) {
    commit = await existingCommit(info, options.startAt.commit);
    parentBranch = options.startAt.branch;
    sink.write('tsk', `Starting from ${options.startAt.branch}'s result ${commit.slice(0, 12)}`);
  } else if (options.branch !== undefined) {
    commit = await branchCommit(info, options.branch);
    parentBranch = options.branch;
    sink.write('tsk', `Using branch ${options.branch} (${commit.slice(0, 12)})`);
  } else {
    sink.write('tsk', `Snapshotting the working tree of ${info.workdir}`);
    commit = await snapshotWorkingTree(info, `tsk snapshot for task ${options.taskId}`);
    parentBranch = info.currentBranch;
  }
  // Force: a retried `tsk add` with the same id must land on the new snapshot, not fail.
  // Refs under refs/tsk/ are shared by all worktrees: written in the common directory.
  await runGit(inCommonDir(info)(['update-ref', '-m', `tsk: snapshot for task ${options.taskId}`, ref, commit]), { cwd: info.workdir });
  debug.git('snapshot %s -> %s in %s', ref, commit, info.mainWorkdir);
  sink.write('tsk', `Snapshot ${commit.slice(0, 12)} saved as ${ref}`);
  return { repoPath: info.mainWorkdir, commit, ref, parentBranch };
}

/** Delete a task's snapshot ref (after the task is cleaned up). Does nothing when it is already gone. */
export async function deleteSnapshotRef(repoPath: string, taskId: string): Promise<void> {
  checkTaskId(taskId);
  const info = await resolveRepository(repoPath);
  // A ref already gone is deleted too (update-ref says nothing and succeeds).
  await runGit(inCommonDir(info)(['update-ref', '-d', snapshotRef(taskId)]), { cwd: info.workdir }).catch((error: unknown) => {
    throw new GitCommandError(`could not delete ${snapshotRef(taskId)} in ${info.mainWorkdir}: ${(error as Error).message}`, undefined, { cause: error });
  });
  debug.git('deleted %s in %s', snapshotRef(taskId), info.mainWorkdir);
}
