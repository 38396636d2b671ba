import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GitCommandError } from '../errors/git-command-error.js';
import { InputError } from '../errors/input-error.js';
import { silentSink, type LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import type { TaskSource } from '../model/task-spec.js';
import { runGit, tryGit } from './git-cli.js';
import { branchNameProblem, taskSourceProblems } from './git-values.js';
import { hostIdentity, type GitIdentity } from './identity.js';
import { configureLfsFilter, lfsObjectsDir, shareObjects, usesLfs } from './lfs.js';
import { originDirs, type OriginDirs } from './origin.js';
import { initSubmodules } from './submodules.js';

/** What to clone, where, and onto which branch. */
export interface PrepareWorkspaceOptions {
  /** Where the task's starting commit comes from. */
  source: TaskSource;
  /** The directory to clone into; must not exist or be empty. */
  dir: string;
  /** The result branch to create at the starting commit and check out. */
  branch: string;
  /** Receives user-facing progress lines. @defaultValue silentSink */
  log?: LogSink;
  /**
   * Committer identity written to the workspace's config, so commits made in the sandbox work.
   * @defaultValue the host's `user.name`/`user.email` (as seen from the origin), else `tsk <tsk@localhost>`
   */
  identity?: GitIdentity;
}

/** A ready workspace: a clone checked out on the result branch. */
export interface Workspace {
  dir: string;
  /** The commit the branch starts from (the snapshot); the result is compared against it. */
  baseCommit: string;
}

/** Remove user info from http(s) URLs: the sandbox reads the workspace config and must not see tokens. */
export function withoutCredentials(url: string): string {
  if (!/^https?:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * Files written at once by a checkout (git's parallel checkout, `checkout.workers`). Creating a file is
 * what a checkout waits for: on a disk where each create takes a millisecond or more (measured here: a
 * 10,000-file checkout 8-12 s one at a time, 0.2-3 s with 16 writers), writing them one at a time is
 * slower than `cp -a`. The writers wait on the disk, not the CPU, so there are more of them than cores.
 * git keeps small checkouts (under its `checkout.thresholdForParallelism`) and filtered files (LFS) serial.
 */
const CHECKOUT_WORKERS = 16;
const PARALLEL_CHECKOUT = ['-c', `checkout.workers=${CHECKOUT_WORKERS}`];

/** How often a local clone is tried before giving up (see {@link clone}). */
const LOCAL_CLONE_ATTEMPTS = 3;

async function clone(source: TaskSource, dir: string, shared: boolean): Promise<void> {
  const cwd = dirname(dir);
  await mkdir(cwd, { recursive: true });
  // A plain path clones locally, file by file. --no-hardlinks makes those files copies: a hard link would
  // be the origin's own object file, which the sandbox (as the owner of the workspace) could rewrite in
  // place, changing the user's existing history. It has no effect on other transports. --shared (a
  // copy-on-write base, see workspace-base.ts) copies no object at all: the base borrows the origin's
  // object directory, which the sandbox only ever sees through a read-only mount.
  const from = source.kind === 'local' ? source.repoPath : source.url;
  const args = ['clone', '--no-checkout', '--quiet', shared ? '--shared' : '--no-hardlinks', '--', from, dir];
  for (let attempt = 1; ; attempt++) {
    try {
      await runGit(args, { cwd, trustRepository: true });
      return;
    } catch (error) {
      // A local clone copies the object directory file by file, so a `gc` running in the user's repository
      // at the same time (git starts one in the background after many new objects) can pack and delete a
      // loose object between listing and copying it. The repository is fine; copying again succeeds.
      if (source.kind !== 'local' || attempt >= LOCAL_CLONE_ATTEMPTS) throw error;
      debug.git('local clone of %s failed (attempt %d), retrying: %s', from, attempt, (error as Error).message);
      await rm(dir, { recursive: true, force: true });
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 1000 * attempt));
    }
  }
}

/** Make sure the snapshot commit is in the clone: snapshot refs live outside refs/heads, so clone skips them. */
async function ensureCommit(dir: string, source: TaskSource): Promise<string> {
  const git = { cwd: dir, trustRepository: true };
  const verify = ['rev-parse', '--verify', '--quiet', '--end-of-options', `${source.commit}^{commit}`];
  let commit = await tryGit(verify, git);
  if (commit === undefined) {
    await runGit(['fetch', '--quiet', '--no-tags', '--end-of-options', 'origin', source.ref], git);
    commit = await tryGit(verify, git);
  }
  if (commit === undefined) {
    const origin = source.kind === 'local' ? source.repoPath : withoutCredentials(source.url);
    throw new GitCommandError(`commit ${source.commit} not found in ${origin} (ref ${source.ref})`, undefined, {
      hint: 'the snapshot ref may have been deleted; re-add the task',
    });
  }
  return commit.trim();
}

async function writeIdentity(dir: string, options: PrepareWorkspaceOptions): Promise<void> {
  const source = options.source;
  // For a local origin ask git there, so a repository-specific identity carries over to the sandbox.
  const identity = options.identity ?? (await hostIdentity(source.kind === 'local' ? source.repoPath : dir, true));
  const git = { cwd: dir, trustRepository: true };
  await runGit(['config', '--end-of-options', 'user.name', identity.name], git);
  await runGit(['config', '--end-of-options', 'user.email', identity.email], git);
}

async function prepareLfs(dir: string, commit: string, origin: OriginDirs | undefined, log: LogSink): Promise<void> {
  if (!(await usesLfs(dir, commit, origin?.commonDir))) return;
  await configureLfsFilter(dir);
  if (origin === undefined) return;
  // Before checkout: smudge then finds every object locally and never needs the network.
  const target = lfsObjectsDir(join(dir, '.git'));
  const added = await shareObjects(lfsObjectsDir(origin.commonDir), target, { verify: false });
  if (added > 0) log.write('tsk', `Copied ${added} LFS object(s) from the origin`);
}

/** Refuse a source or branch that is not what it claims to be, before git sees any of it. */
function checkOptions(source: TaskSource, branch: string): void {
  const problems = taskSourceProblems(source);
  if (problems.length > 0) throw new InputError(`invalid task source: ${problems.join('; ')}`);
  const problem = branchNameProblem(branch);
  if (problem !== undefined) throw new InputError(`invalid result branch ${JSON.stringify(branch)}: it ${problem}`);
}

/**
 * Clone the task's source into `dir` and check out a new `branch` at the snapshot commit, with LFS
 * content and submodules (from the local origin when there is one, so no network is needed).
 *
 * Nothing in the workspace is a hard link to the origin: objects, LFS objects and submodules are copies,
 * so the sandbox can never write to the user's repository. The source and branch come from a job and are
 * validated first ({@link InputError}); submodules follow the rules of {@link initSubmodules}.
 *
 * The `origin` remote is kept: its remote-tracking branches give the agent context (`git diff
 * origin/main`), and inside the sandbox the path or URL is simply unreachable, so nothing can be fetched
 * or pushed through it. Credentials are stripped from a remote URL. Results never go through it:
 * {@link collectResult} fetches from the workspace into the origin.
 */
export async function prepareWorkspace(options: PrepareWorkspaceOptions): Promise<Workspace> {
  const { source, branch } = options;
  const dir = resolve(options.dir);
  checkOptions(source, branch);
  return checkOut({ ...options, dir }, { branch, shared: false });
}

/**
 * Clone and check out, on `branch` or (a copy-on-write base, shared by tasks) on a detached HEAD, with
 * `--shared` objects or copies of them.
 */
export async function checkOut(options: PrepareWorkspaceOptions, how: { branch: string | undefined; shared: boolean }): Promise<Workspace> {
  const { source, dir } = options;
  const { branch } = how;
  const log = options.log ?? silentSink;
  const origin = source.kind === 'local' ? await originDirs(source.repoPath) : undefined;
  const git = { cwd: dir, trustRepository: true };

  log.write('tsk', source.kind === 'local' ? `Cloning repository ${source.repoPath}…` : `Cloning repository ${withoutCredentials(source.url)}…`);
  await clone(source, dir, how.shared);
  const baseCommit = await ensureCommit(dir, source);
  await writeIdentity(dir, options);
  await prepareLfs(dir, baseCommit, origin, log);

  // `switch` rather than `checkout`: checkout reads what follows --end-of-options as paths.
  if (branch === undefined) {
    log.write('tsk', `Checking out ${baseCommit.slice(0, 12)}`);
    await runGit([...PARALLEL_CHECKOUT, 'switch', '--quiet', '--detach', '--end-of-options', baseCommit], git);
  } else {
    log.write('tsk', `Checking out ${baseCommit.slice(0, 12)} on branch ${branch}`);
    // -C: the clone only has the origin's default branch; should it carry this name, start it over here.
    await runGit([...PARALLEL_CHECKOUT, 'switch', '--quiet', '--no-guess', '-C', branch, '--end-of-options', baseCommit], git);
  }

  const hasSubmodules = (await tryGit(['ls-files', '--error-unmatch', '.gitmodules'], git)) !== undefined;
  if (hasSubmodules) {
    log.write('tsk', 'Checking out submodules…');
    await initSubmodules(dir, origin && { workdir: origin.workdir, gitDir: origin.commonDir }, log);
  }
  if (source.kind === 'remote' && withoutCredentials(source.url) !== source.url) {
    await runGit(['remote', 'set-url', '--end-of-options', 'origin', withoutCredentials(source.url)], git);
  }
  return { dir, baseCommit };
}
