import { existsSync } from 'node:fs';
import { isTaskId } from '../common/ids.js';
import { GitCommandError, InputError } from '../errors/index.js';
// The git modules themselves, not git/index.js: that one loads nodegit, which pinning does not need.
import { runGit, tryGit } from '../git/git-cli.js';
import { isCommitHash } from '../git/git-values.js';
import { snapshotRef } from '../git/snapshot-ref.js';

/**
 * Point a task's snapshot ref (`refs/tsk/snapshots/<id>`) at `commit` in a local origin, so the commit
 * outlives whatever referenced it before (a parent's snapshot, an old task being retried) and the worker
 * finds it. The commit comes from a task record (a parent's result), so it must be a full commit hash
 * ({@link InputError} otherwise). Throws {@link GitCommandError} when the repository or the commit is gone.
 */
export async function pinSnapshot(repoPath: string, taskId: string, commit: string): Promise<void> {
  if (!isTaskId(taskId)) throw new InputError(`invalid task id ${JSON.stringify(taskId)}: expected 8 characters of [A-Za-z0-9_]`);
  if (!isCommitHash(commit)) throw new InputError(`invalid commit ${JSON.stringify(commit)}: expected a full commit hash`);
  if (!existsSync(repoPath)) throw new GitCommandError(`repository ${repoPath} does not exist on this machine`);
  const git = { cwd: repoPath, trustRepository: true };
  if ((await tryGit(['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], git)) === undefined) {
    throw new GitCommandError(`commit ${commit.slice(0, 12)} no longer exists in ${repoPath}`);
  }
  await runGit(['update-ref', '-m', `tsk: start of task ${taskId}`, '--end-of-options', snapshotRef(taskId), commit], git);
}
