import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isTaskId } from '../common/ids.js';
import { GitCommandError, InputError } from '../errors/index.js';
import { silentSink, type LogSink } from '../logging/log-sink.js';
import { checkedFetchArgs, runGit, tryGit } from './git-cli.js';
import { branchNameProblem, isCommitHash, isResultRef, isSnapshotRef, remoteUrlProblem, resultRef } from './git-values.js';
import { snapshotRef } from './snapshot-ref.js';

/*
 * A shared remote carries a task from the producer's machine to whichever worker runs it, and its result
 * back: the producer pushes `refs/tsk/snapshots/<id>`, the worker fetches it into a mirror of its own and
 * pushes `refs/tsk/results/<id>`, `tsk fetch` brings the result home as a branch. Both refs live outside
 * `refs/heads`, so they clutter no branch list and start no CI workflow on the team's server. Each side
 * uses its own git credentials (ssh agent, credential helper): none travel through the queue, and the
 * agent never holds any. Hooks never run: pushing a snapshot is not the user's own push.
 */

/** Refuse a URL or id that is not what it claims to be, before git sees it. */
function checkRemote(url: string, taskId: string): void {
  const problem = remoteUrlProblem(url);
  if (problem !== undefined) throw new InputError(`invalid remote URL: it ${problem}`);
  if (!isTaskId(taskId)) throw new InputError(`invalid task id ${JSON.stringify(taskId)}`);
}

/** Push a task's snapshot ref (already made in the user's repository) to the shared remote, with the user's credentials. */
export async function pushSnapshot(repoPath: string, url: string, taskId: string, log: LogSink = silentSink): Promise<void> {
  checkRemote(url, taskId);
  const ref = snapshotRef(taskId);
  log.write('tsk', `Pushing the snapshot to ${url}…`);
  try {
    await runGit(['push', '--quiet', '--no-verify', '--end-of-options', url, `${ref}:${ref}`], { cwd: repoPath });
  } catch (error) {
    throw new GitCommandError(`could not push the snapshot to ${url}: ${gitReason(error)}`, undefined, {
      cause: error,
      hint: 'check that you can push to it (`git push <remote>` from this repository) or unset remote / TSK_REMOTE_URL to queue for workers on this machine only',
    });
  }
}

/**
 * Remove a task's snapshot and result refs from the remote (its branch, if one was pushed, stays: it is
 * the team's). Best effort: refs that are not there are skipped.
 */
export async function deleteRemoteTaskRefs(cwd: string, url: string, taskId: string): Promise<void> {
  checkRemote(url, taskId);
  const refs = [snapshotRef(taskId), resultRef(taskId)];
  const listed = await runGit(['ls-remote', '--end-of-options', url, ...refs], { cwd });
  const present = refs.filter((ref) => listed.split('\n').some((line) => line.endsWith(`\t${ref}`)));
  if (present.length === 0) return;
  await runGit(['push', '--quiet', '--no-verify', '--end-of-options', url, ...present.map((ref) => `:${ref}`)], { cwd });
}

export interface FetchResultOptions {
  /** The user's repository (main work tree). */
  repoPath: string;
  url: string;
  taskId: string;
  /** The result commit as its worker signed it: what the remote's ref must hold. */
  commit: string;
  /** The local branch to create, `tsk/<type>/<name>/<id>`. */
  branch: string;
}

/**
 * Bring a task's result from the remote into the user's repository as `refs/heads/<branch>`: every new
 * object checked (`fetch.fsckObjects`), the branch made only when the fetched objects hold exactly the
 * commit the worker signed (anyone who can push to the remote could move the ref), and never over an
 * existing branch. Returns false when the branch already is that commit.
 */
export async function fetchResult(options: FetchResultOptions): Promise<boolean> {
  const { repoPath, url, taskId, commit, branch } = options;
  checkRemote(url, taskId);
  if (!isCommitHash(commit)) throw new InputError(`invalid result commit ${JSON.stringify(commit)}`);
  const problem = branchNameProblem(branch);
  if (problem !== undefined) throw new InputError(`invalid branch ${JSON.stringify(branch)}: it ${problem}`);
  const git = { cwd: repoPath };
  const ref = `refs/heads/${branch}`;
  const existing = (await tryGit(['rev-parse', '--verify', '--quiet', '--end-of-options', ref], git))?.trim();
  if (existing === commit) return false;
  if (existing !== undefined) throw new InputError(`branch ${branch} already exists at another commit`, { hint: 'delete or rename it, then fetch again' });
  // Fetch into a ref of tsk's own: a fetch without a destination may leave the objects unreferenced.
  const fetched = `refs/tsk/fetched/${taskId}`;
  await runGit(
    checkedFetchArgs(url, [`+${resultRef(taskId)}:${fetched}`]),
    git,
  ).catch((error: unknown) => {
    throw new GitCommandError(`could not fetch the result of task ${taskId} from ${url}: ${gitReason(error)}`, undefined, { cause: error });
  });
  try {
    const tip = (await runGit(['rev-parse', '--verify', '--end-of-options', fetched], git)).trim();
    if (tip !== commit) {
      throw new GitCommandError(`the remote's ${resultRef(taskId)} is ${tip.slice(0, 12)}, not the result its worker signed (${commit.slice(0, 12)})`, undefined, {
        hint: 'someone rewrote the ref on the remote; ask the worker’s operator for the result',
      });
    }
    await runGit(['update-ref', '-m', `tsk: result of task ${taskId}`, ref, commit, ''], git);
    return true;
  } finally {
    await tryGit(['update-ref', '-d', fetched], git);
  }
}

/**
 * Put `commit` under `refs/tsk/snapshots/<taskId>` on the remote (`tsk retry` of a remote task): fetched
 * from the remote's `from` ref into `repoPath` (the user's repository when it is on this machine, else a
 * scratch repository of tsk's own), checked to be that commit, and pushed under the new task's ref.
 */
export async function pinRemoteSnapshot(options: { repoPath: string | undefined; url: string; from: string; taskId: string; commit: string }): Promise<void> {
  const { url, from, taskId, commit } = options;
  checkRemote(url, taskId);
  if (!isCommitHash(commit)) throw new InputError(`invalid commit ${JSON.stringify(commit)}`);
  const scratch = options.repoPath === undefined ? await mkdtemp(join(tmpdir(), 'tsk-pin-')) : undefined;
  const git = { cwd: options.repoPath ?? scratch ?? '' };
  const fetched = `refs/tsk/fetched/${taskId}`;
  try {
    if (scratch !== undefined) await runGit(['init', '--quiet', '--bare'], git);
    await runGit(checkedFetchArgs(url, [`+${from}:${fetched}`]), git);
    if ((await tryGit(['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], git)) === undefined) {
      throw new GitCommandError(`commit ${commit.slice(0, 12)} is not on ${url} (under ${from})`);
    }
    await runGit(['push', '--quiet', '--no-verify', '--end-of-options', url, `${commit}:${snapshotRef(taskId)}`], git);
  } finally {
    if (scratch === undefined) await tryGit(['update-ref', '-d', fetched], git);
    else await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Why git failed, without the command prefix. What the other side said (`remote: …` lines: a hook's
 * reason, a server's quota message) comes first: it is usually what the user must act on.
 */
function gitReason(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^git \S+ failed in [^:]*: /, '');
  const stderr = error instanceof GitCommandError ? (error.details?.stderr ?? '') : '';
  const remote = stderr
    .split(/\r?\n/)
    .filter((line) => line.startsWith('remote: ') && line.length > 'remote: '.length)
    .map((line) => line.slice('remote: '.length).trim())
    .slice(0, 5);
  return remote.length > 0 ? `${remote.join(' ')} (${message})` : message;
}

/** One ref a worker pushes: `ref` on the remote set to `commit`. */
export interface RefUpdate {
  commit: string;
  ref: string;
  /** Replace whatever the ref holds (a task's own snapshot ref); otherwise the push only creates or fast-forwards. */
  force?: boolean;
}

/**
 * A worker's mirror of one shared remote: a repository of tsk's own under `<dataDir>/mirrors/`, so a task
 * fetches only what is new instead of cloning from scratch. Workspaces are cloned from it with
 * `--no-hardlinks`, like from a user's repository, so a sandbox can never write to it. Results are
 * collected into it (`refs/tsk/results/<id>`) and pushed from it, and stay there when the push fails.
 */
export class RemoteMirror {
  private static readonly ready = new Map<string, Promise<void>>();

  /** `<dataDir>/mirrors/<hash of the URL>`. */
  readonly dir: string;

  constructor(
    dataDir: string,
    readonly url: string,
  ) {
    const problem = remoteUrlProblem(url);
    if (problem !== undefined) throw new InputError(`invalid remote URL: it ${problem}`);
    this.dir = join(dataDir, 'mirrors', createHash('sha256').update(url).digest('hex').slice(0, 24));
  }

  /** Fetch these refs (each to the same name) into the mirror; every new object checked. */
  async fetch(refs: readonly string[], log: LogSink = silentSink): Promise<void> {
    await this.init();
    log.write('tsk', `Fetching ${refs.join(', ')} from ${this.url}…`);
    await runGit(
      checkedFetchArgs(this.url, refs.map((ref) => `+${ref}:${ref}`)),
      { cwd: this.dir, trustRepository: true },
    ).catch((error: unknown) => {
      throw new GitCommandError(`could not fetch ${refs.join(', ')} from ${this.url}: ${gitReason(error)}`, undefined, {
        cause: error,
        hint: 'check the worker’s access to the remote (its own git credentials), and that the task was not deleted',
      });
    });
  }

  /** Whether the mirror has `ref` at exactly `commit` (false when there is no mirror yet). */
  async holds(ref: string, commit: string): Promise<boolean> {
    if (!isCommitHash(commit) || !(isResultRef(ref) || isSnapshotRef(ref))) return false;
    if (!(await this.exists())) return false;
    const tip = await tryGit(['rev-parse', '--verify', '--quiet', '--end-of-options', ref], { cwd: this.dir, trustRepository: true });
    return tip?.trim() === commit;
  }

  /** Point `refs/tsk/snapshots/<taskId>` at `commit` (fetched already), where the workspace is cloned from. */
  async pin(taskId: string, commit: string): Promise<void> {
    if (!isTaskId(taskId)) throw new InputError(`invalid task id ${JSON.stringify(taskId)}`);
    if (!isCommitHash(commit)) throw new InputError(`invalid commit ${JSON.stringify(commit)}`);
    const git = { cwd: this.dir, trustRepository: true };
    if ((await tryGit(['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], git)) === undefined) {
      throw new GitCommandError(`commit ${commit.slice(0, 12)} is not on ${this.url}`, undefined, { hint: 'the parent task’s refs may have been deleted' });
    }
    await runGit(['update-ref', '--end-of-options', snapshotRef(taskId), commit], git);
  }

  /** Push commits of the mirror to refs on the remote, in one push; `force` replaces what the ref holds. */
  async push(updates: readonly RefUpdate[], log: LogSink = silentSink): Promise<void> {
    for (const update of updates) {
      if (!isCommitHash(update.commit)) throw new InputError(`invalid commit ${JSON.stringify(update.commit)}`);
    }
    log.write('tsk', `Pushing ${updates.map((update) => update.ref).join(', ')} to ${this.url}…`);
    const refspecs = updates.map((update) => `${update.force ? '+' : ''}${update.commit}:${update.ref}`);
    await runGit(['push', '--quiet', '--no-verify', '--end-of-options', this.url, ...refspecs], { cwd: this.dir, trustRepository: true }).catch((error: unknown) => {
      throw new GitCommandError(`could not push to ${this.url}: ${gitReason(error)}`, undefined, { cause: error });
    });
  }

  /** Make the mirror once per process (a repository with an empty work tree, so it reads like an origin). */
  private init(): Promise<void> {
    let ready = RemoteMirror.ready.get(this.dir);
    if (ready === undefined) {
      ready = this.create();
      RemoteMirror.ready.set(this.dir, ready);
      ready.catch(() => RemoteMirror.ready.delete(this.dir));
    }
    return ready;
  }

  /** Whether the mirror has been made (by this process or another). */
  private exists(): Promise<boolean> {
    return stat(join(this.dir, '.git')).then(
      () => true,
      () => false,
    );
  }

  /**
   * Made in a folder of its own and renamed into place: workers sharing a data dir (compose replicas) may
   * create the same mirror at the same moment, and only one rename wins.
   */
  private async create(): Promise<void> {
    if (await this.exists()) return;
    await mkdir(dirname(this.dir), { recursive: true, mode: 0o700 });
    const staging = await mkdtemp(`${this.dir}.new-`);
    try {
      await runGit(['init', '--quiet'], { cwd: staging });
      // The mirror only ever holds tsk's refs: no maintenance racing a clone, no reflogs to keep objects alive.
      await runGit(['config', 'gc.auto', '0'], { cwd: staging });
      await runGit(['config', 'core.logAllRefUpdates', 'false'], { cwd: staging });
      await rename(staging, this.dir).catch(async (error: unknown) => {
        // Another process made it first: use theirs.
        if (!(await this.exists())) throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
