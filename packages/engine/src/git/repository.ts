import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GitCommandError } from '../errors/git-command-error.js';
import { InputError } from '../errors/input-error.js';
import { log as debug } from '../logging/logger.js';
import { runGit, tryGit } from './git-cli.js';

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

/**
 * Find the repository containing `path`. Throws {@link InputError} when there is none or it is bare
 * (a snapshot needs a work tree). A repository without commits is accepted: `head` is then undefined.
 *
 * Asked of the git CLI, the same git that snapshots the tree (a couple of `rev-parse`s, a few ms each),
 * rather than of nodegit: loading libgit2 cost every `tsk add` and `tsk run` ~0.2 s before anything else.
 */
export async function resolveRepository(path: string): Promise<RepositoryInfo> {
  const start = resolve(path);
  if (!existsSync(start)) throw new InputError(`${start} does not exist`);
  const cwd = (await stat(start)).isDirectory() ? start : dirname(start);
  const where = await tryGit(['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir', '--is-bare-repository', '--show-toplevel'], { cwd });
  if (where === undefined) return refuse(start, cwd);
  const [gitDir = '', commonDir = '', , workdir = ''] = where.split('\n');
  let mainWorkdir = workdir;
  // Only a linked worktree has a git directory of its own (`<common>/worktrees/<name>`).
  if (gitDir !== commonDir) {
    // A worktree of a bare repository has no main work tree; the worktree's refs are shared, so
    // results can still be fetched through the worktree itself.
    mainWorkdir = (await mainWorkTree(commonDir, cwd)) ?? workdir;
  }
  const head = (await tryGit(['rev-parse', '--quiet', '--verify', 'HEAD^{commit}'], { cwd }))?.trim();
  const info: RepositoryInfo = {
    workdir: resolve(workdir),
    mainWorkdir: resolve(mainWorkdir),
    gitDir: resolve(gitDir),
    commonDir: resolve(commonDir),
    currentBranch: await symbolicBranch(gitDir),
    head: head === '' ? undefined : head,
  };
  debug.git('repository at %s: %o', path, info);
  return info;
}

/** Why `start` has no work tree of a repository: a bare repository, no repository, or git's own reason (an owner it does not trust). */
async function refuse(start: string, cwd: string): Promise<never> {
  const bare = await tryGit(['rev-parse', '--path-format=absolute', '--git-dir', '--is-bare-repository'], { cwd });
  const [gitDir = '', isBare = ''] = (bare ?? '').split('\n');
  if (isBare === 'true') throw new InputError(`${gitDir} is a bare git repository`, { hint: 'run tsk in a work tree of it' });
  if (bare !== undefined) throw new InputError(`${start} is inside a git directory, not a work tree`, { hint: 'run tsk in a work tree of the repository' });
  // git's own words when it is a repository git refuses (owned by another user), else: none there.
  await runGit(['rev-parse', '--git-dir'], { cwd }).catch((error: unknown) => {
    if (error instanceof GitCommandError && /dubious ownership/.test(error.message)) throw error;
  });
  throw new InputError(`${start} is not in a git repository`, { hint: 'run tsk inside a git repository or pass --repo <path>' });
}

/** The main work tree of the repository whose git directory is `commonDir`: `core.worktree`, else the folder holding `.git`; undefined when it is bare. */
async function mainWorkTree(commonDir: string, cwd: string): Promise<string | undefined> {
  const config = (await tryGit(['--git-dir', commonDir, 'config', '--get-regexp', '^core\\.(bare|worktree)$'], { cwd })) ?? '';
  const value = (key: string) => config.split('\n').find((line) => line.startsWith(`${key} `))?.slice(key.length + 1);
  if (value('core.bare') === 'true') return undefined;
  const worktree = value('core.worktree');
  if (worktree !== undefined) return resolve(commonDir, worktree);
  return basename(commonDir) === '.git' ? dirname(commonDir) : undefined;
}

/** The branch HEAD names (also when it has no commit yet), read from HEAD itself; undefined when detached. */
async function symbolicBranch(gitDir: string): Promise<string | undefined> {
  const head = await readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => '');
  const target = /^ref: (refs\/heads\/\S+)\s*$/.exec(head)?.[1];
  return target?.slice('refs/heads/'.length);
}
