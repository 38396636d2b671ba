import { join } from 'node:path';
import { InputError } from '../errors/input-error.js';
import { silentSink, type LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import { runGit, tryGit } from './git-cli.js';
import { hostIdentity } from './identity.js';
import { lfsObjectsDir, shareObjects } from './lfs.js';
import { originDirs } from './origin.js';
import { workspaceGuard } from './workspace-guard.js';

/** Where the agent worked and where its result goes. */
export interface CollectResultOptions {
  /** The task's workspace (a clone made by `prepareWorkspace`), possibly owned by the sandbox's uid. */
  workspaceDir: string;
  /** Name of the result branch to create in the origin. */
  branch: string;
  /** The commit the workspace started from; a HEAD still there with a clean tree means "no changes". */
  baseCommit: string;
  /** Task name, used in the message of the leftover-changes commit. */
  taskName: string;
  /** The origin repository (main work tree) that receives the branch. */
  repoPath: string;
  /** Recorded as the git-town parent of the branch when `gitTown` is set. */
  parentBranch?: string | undefined;
  /** Set `git-town-branch.<branch>.parent` in the origin. @defaultValue false */
  gitTown?: boolean;
  /** Receives user-facing progress lines. @defaultValue silentSink */
  log?: LogSink;
}

/** What a task left behind. */
export interface CollectedResult {
  /** False when the agent changed nothing (no branch was created). */
  changed: boolean;
  /** The tip of the new branch, when `changed`. */
  commit: string | undefined;
}

/**
 * Commit whatever the agent left uncommitted on the workspace's HEAD (any branch, or detached). Returns
 * whether a commit was made. No hook runs: the guard points hooksPath nowhere (`--no-verify` alone would
 * still run post-commit hooks, and the agent could have written any of them).
 */
async function commitLeftovers(workspaceDir: string, guard: readonly string[], taskName: string): Promise<boolean> {
  const git = { cwd: workspaceDir, trustRepository: true };
  await runGit([...guard, 'add', '-A'], git);
  const tree = (await runGit([...guard, 'write-tree'], git)).trim();
  // An agent may leave HEAD unborn (orphan branch): then everything it added is a change.
  const headTree = (await tryGit([...guard, 'rev-parse', '--verify', '--quiet', 'HEAD^{tree}'], git))?.trim();
  if (headTree === tree) return false;
  // The agent may have dropped the identity prepareWorkspace wrote; fall back rather than fail.
  const identity = await hostIdentity(workspaceDir, true);
  // The guard also turns off signing: the user's signing key is not the worker's to use.
  const who = ['-c', `user.name=${identity.name}`, '-c', `user.email=${identity.email}`];
  await runGit([...guard, ...who, 'commit', '--no-verify', '--quiet', '-m', `tsk automated changes for task: ${taskName}`], git);
  return true;
}

/**
 * Bring the workspace's HEAD into the origin as `refs/heads/<branch>`. Fetching writes only objects;
 * `update-ref` with an empty old value then creates the branch atomically and refuses if it exists, so
 * the user's HEAD, index, work tree and other branches are never touched.
 */
async function publishBranch(options: CollectResultOptions, originDir: string, commit: string): Promise<void> {
  const origin = { cwd: originDir, trustRepository: true };
  const ref = `refs/heads/${options.branch}`;
  if ((await tryGit(['rev-parse', '--verify', '--quiet', ref], origin)) !== undefined) {
    throw new InputError(`branch ${options.branch} already exists in ${originDir}`, {
      hint: 'delete or rename that branch, then retry the task',
    });
  }
  // safe.directory=* reaches the upload-pack git runs in the workspace, which may belong to another uid.
  // No maintenance: a background gc in the user's repository is not tsk's to start.
  await runGit(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', options.workspaceDir, 'HEAD'], origin);
  await runGit(['update-ref', '-m', `tsk: result of task ${options.taskName}`, ref, commit, ''], origin);
}

/**
 * Turn what the agent left in the workspace into a branch of the origin repository: commit leftovers
 * (`tsk automated changes for task: <name>`), then, unless HEAD is still `baseCommit`, create
 * `refs/heads/<branch>` in the origin from the workspace's HEAD, copy new LFS objects back and record
 * the git-town parent. Throws {@link InputError} when the branch already exists in the origin.
 */
export async function collectResult(options: CollectResultOptions): Promise<CollectedResult> {
  const log = options.log ?? silentSink;
  const ws = { cwd: options.workspaceDir, trustRepository: true };
  const guard = await workspaceGuard(options.workspaceDir);
  const committed = await commitLeftovers(options.workspaceDir, guard, options.taskName);
  if (committed) log.write('tsk', 'Committed uncommitted changes left by the agent');
  const head = (await runGit([...guard, 'rev-parse', '--verify', 'HEAD^{commit}'], ws)).trim();
  if (head === options.baseCommit) {
    debug.git('workspace %s unchanged at %s', options.workspaceDir, head);
    return { changed: false, commit: undefined };
  }

  const origin = await originDirs(options.repoPath);
  // LFS objects first: once the branch exists, the user may check it out and need them.
  const lfsAdded = await shareObjects(lfsObjectsDir(join(options.workspaceDir, '.git')), lfsObjectsDir(origin.commonDir), {
    hardLink: false,
    verify: true,
  });
  if (lfsAdded > 0) log.write('tsk', `Copied ${lfsAdded} LFS object(s) to the origin`);
  await publishBranch(options, origin.workdir, head);
  if (options.gitTown && options.parentBranch) {
    await runGit(['config', `git-town-branch.${options.branch}.parent`, options.parentBranch], { cwd: origin.workdir, trustRepository: true });
  }
  log.write('tsk', `Branch ${options.branch} created in ${origin.workdir} (${head.slice(0, 12)})`);
  return { changed: true, commit: head };
}
