import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import nodegit from 'nodegit';
import { InputError } from '../errors/input-error.js';
import { log as debug } from '../logging/logger.js';

/** Where a repository lives on disk, as seen from a path inside it. */
export interface RepositoryInfo {
  /** Top level of the work tree containing the path (a linked worktree's own directory). */
  workdir: string;
  /**
   * The main repository's work tree: the same as `workdir`, except for a linked `git worktree`, where
   * it is the repository the worktree belongs to (or the worktree itself when that repository is bare).
   * Snapshot refs and result branches go here.
   */
  mainWorkdir: string;
  /** This work tree's git directory (holds its HEAD and index). */
  gitDir: string;
  /** The git directory shared by all work trees (objects, refs, config, `lfs/`). */
  commonDir: string;
  /** The branch HEAD names (also when it has no commit yet); undefined when HEAD is detached. */
  currentBranch: string | undefined;
  /** The commit HEAD points at; undefined when the repository has no commits yet (unborn HEAD). */
  head: string | undefined;
}

/** nodegit paths of directories end with '/'; tsk paths never do. */
function dirPath(path: string): string {
  return resolve(path);
}

/** Open the repository containing `path` with nodegit, as an InputError when there is none. */
export async function openRepository(path: string): Promise<nodegit.Repository> {
  const start = resolve(path);
  if (!existsSync(start)) throw new InputError(`${start} does not exist`);
  let gitPath: string;
  try {
    gitPath = await nodegit.Repository.discover(start, 0, '');
  } catch (error) {
    throw new InputError(`${start} is not in a git repository`, {
      cause: error,
      hint: 'run tsk inside a git repository or pass --repo <path>',
    });
  }
  return nodegit.Repository.open(gitPath);
}

async function symbolicBranch(repo: nodegit.Repository): Promise<string | undefined> {
  // Read HEAD itself rather than `getCurrentBranch()`, which fails when the branch has no commit yet.
  const head = await nodegit.Reference.lookup(repo, 'HEAD');
  if (!head.isSymbolic()) return undefined;
  const target = head.symbolicTarget();
  return target.startsWith('refs/heads/') ? target.slice('refs/heads/'.length) : undefined;
}

/**
 * Find the repository containing `path`. Throws {@link InputError} when there is none or it is bare
 * (a snapshot needs a work tree). A repository without commits is accepted: `head` is then undefined.
 */
export async function resolveRepository(path: string): Promise<RepositoryInfo> {
  const repo = await openRepository(path);
  if (repo.isBare()) {
    throw new InputError(`${repo.path()} is a bare git repository`, { hint: 'run tsk in a work tree of it' });
  }
  const workdir = dirPath(repo.workdir());
  const gitDir = dirPath(repo.path());
  const commonDir = dirPath(repo.commondir());
  let mainWorkdir = workdir;
  // Only a linked worktree has a git directory of its own (`<common>/worktrees/<name>`).
  if (gitDir !== commonDir) {
    const main = await nodegit.Repository.open(commonDir);
    // A worktree of a bare repository has no main work tree; the worktree's refs are shared, so
    // results can still be fetched through the worktree itself.
    if (!main.isBare()) mainWorkdir = dirPath(main.workdir());
  }
  const head = repo.headUnborn() ? undefined : (await repo.getHeadCommit()).sha();
  const info: RepositoryInfo = {
    workdir,
    mainWorkdir,
    gitDir,
    commonDir,
    currentBranch: await symbolicBranch(repo),
    head,
  };
  debug.git('repository at %s: %o', path, info);
  return info;
}
