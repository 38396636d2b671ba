import { existsSync } from 'node:fs';
import { GitCommandError } from '../errors/index.js';
import { runGit, snapshotRef, tryGit } from '../git/index.js';
import type { TaskSource } from '../model/index.js';

/**
 * Point a task's snapshot ref (`refs/tsk/snapshots/<id>`) at `commit` in a local origin, so the commit
 * outlives whatever referenced it before (a parent's snapshot, an old task being retried) and the worker
 * finds it. Throws {@link GitCommandError} when the repository or the commit is gone.
 */
export async function pinSnapshot(repoPath: string, taskId: string, commit: string): Promise<void> {
  if (!existsSync(repoPath)) throw new GitCommandError(`repository ${repoPath} does not exist on this machine`);
  const git = { cwd: repoPath, trustRepository: true };
  if ((await tryGit(['cat-file', '-e', `${commit}^{commit}`], git)) === undefined) {
    throw new GitCommandError(`commit ${commit.slice(0, 12)} no longer exists in ${repoPath}`);
  }
  await runGit(['update-ref', '-m', `tsk: start of task ${taskId}`, snapshotRef(taskId), commit], git);
}

/**
 * The source a task starts from when it starts at `commit` of the same origin as `like`: for a local
 * origin, its own pinned snapshot ref; for a remote one, `ref` (a branch the commit is on).
 */
export async function sourceAt(like: TaskSource, taskId: string, commit: string, remoteRef: string): Promise<TaskSource> {
  if (like.kind === 'remote') return { kind: 'remote', url: like.url, ref: remoteRef, commit };
  await pinSnapshot(like.repoPath, taskId, commit);
  return { kind: 'local', repoPath: like.repoPath, ref: snapshotRef(taskId), commit };
}
