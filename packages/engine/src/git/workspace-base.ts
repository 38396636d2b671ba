import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../common/error-code.js';
import { folderExists } from '../common/folder-exists.js';
import { processAlive } from '../common/process-alive.js';
import { runProcess } from '../common/run-process.js';
import { acquireBuildLock } from '../docker/build-lock.js';
import { GitCommandError } from '../errors/git-command-error.js';
import { InputError } from '../errors/input-error.js';
import { silentSink, type LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import type { TaskSource } from '../model/task-spec.js';
import { runGit } from './git-cli.js';
import { taskSourceProblems } from './git-values.js';
import type { GitIdentity } from './identity.js';
import { originDirs } from './origin.js';
import { checkOut } from './workspace.js';

/**
 * A read-only checkout of one tree of one origin, shared by every task that starts there (from any commit with that tree): each task
 * sees it through a copy-on-write layer (an overlay volume, `docker/workspace-volume.ts`) and the base
 * itself is never written once made. Its `.git/objects` holds no object: `objects/info/alternates` names
 * the origin's object directory, which the sandbox gets as a read-only mount at the same path.
 *
 * Bases are a cache under `<dataDir>/workspace-bases/`: `<key>/` (the checkout), `<key>.used` (its mtime is
 * the last use), `<key>.leases/<leaseId>` (one per task using it, with the pid that holds it). A base
 * without a live lease and unused for {@link BASE_IDLE_MS}, or beyond the {@link MAX_BASES} most recent,
 * is removed by {@link pruneWorkspaceBases} (run after each new base, and by `tsk clean`).
 */
export interface WorkspaceBase {
  /** The checkout (the overlay's lower directory). */
  dir: string;
  /** The commit it holds, detached. */
  commit: string;
  /** The origin's object directory (real path) the base borrows: mounted read-only into the sandbox. */
  objectsDir: string;
  /** Ends this task's use of the base (it may then be pruned). May be called more than once. */
  release(): Promise<void>;
}

export interface EnsureWorkspaceBaseOptions {
  /** `<dataDir>`: the bases live in `<dataDir>/workspace-bases`. */
  dataDir: string;
  /** A local origin (a user's repository, or a worker's mirror of a remote). */
  source: Extract<TaskSource, { kind: 'local' }>;
  /** Who holds the lease (the task id): one file per holder. */
  leaseId: string;
  /** When tsk runs as root: the sandbox's uid/gid, which must own the base (overlay copies owners up). */
  owner?: { uid: number; gid: number } | undefined;
  identity?: GitIdentity;
  log?: LogSink;
  signal?: AbortSignal;
}

/** A base nobody used for this long is removed. */
export const BASE_IDLE_MS = 60 * 60 * 1000;
/** At most this many bases are kept (the most recently used). */
export const MAX_BASES = 16;

/** `<dataDir>/workspace-bases`. */
export function workspaceBasesDir(dataDir: string): string {
  return join(dataDir, 'workspace-bases');
}

/**
 * A base is keyed by the commit's tree, not the commit: `tsk run` snapshots an unchanged working tree with
 * uncommitted edits as a new commit each time (same tree, new timestamp), and its checkout is the same.
 * Each task's layer names its own commit (HEAD and branch), so what the base's detached HEAD says is moot.
 */
function baseKey(objectsDir: string, tree: string): string {
  return createHash('sha256').update(`${objectsDir}\0${tree}`).digest('hex').slice(0, 32);
}

async function treeOf(repoPath: string, commit: string): Promise<string> {
  return (await runGit(['rev-parse', '--verify', '--end-of-options', `${commit}^{tree}`], { cwd: repoPath, trustRepository: true })).trim();
}

/**
 * The shared base for the task's origin and its commit's tree: reused when it exists, else checked out once (into a
 * temporary folder renamed into place, under a lock, so two tasks never make it twice nor see it half
 * made). The caller holds a lease on it until {@link WorkspaceBase.release}.
 */
export async function ensureWorkspaceBase(options: EnsureWorkspaceBaseOptions): Promise<WorkspaceBase> {
  const { source, dataDir } = options;
  const problems = taskSourceProblems(source);
  if (problems.length > 0) throw new InputError(`invalid task source: ${problems.join('; ')}`);
  const log = options.log ?? silentSink;
  const origin = await originDirs(source.repoPath);
  const objectsDir = await realpath(join(origin.commonDir, 'objects'));
  const bases = workspaceBasesDir(dataDir);
  await mkdir(bases, { recursive: true, mode: 0o700 });
  const tree = await treeOf(origin.commonDir, source.commit);
  const key = baseKey(objectsDir, tree);
  const dir = join(bases, key);
  const lock = await acquireBuildLock(join(bases, `${key}.lock`), { signal: options.signal, onWait: () => log.write('tsk', 'Waiting for another task checking out the same tree…') });
  let made = false;
  try {
    if (!(await folderExists(dir))) {
      await makeBase(options, dir, objectsDir, log);
      made = true;
    } else {
      log.write('tsk', `Reusing the checkout of tree ${tree.slice(0, 12)}`);
    }
    await takeLease(bases, key, options.leaseId);
  } finally {
    await lock.release();
  }
  const leaseFile = join(bases, `${key}.leases`, options.leaseId);
  if (made) void pruneWorkspaceBases(dataDir).catch((error: unknown) => debug.git('pruning workspace bases failed: %O', error));
  let released = false;
  return {
    dir,
    commit: source.commit,
    objectsDir,
    release: async () => {
      if (released) return;
      released = true;
      await unlink(leaseFile).catch(() => undefined);
    },
  };
}

async function makeBase(options: EnsureWorkspaceBaseOptions, dir: string, objectsDir: string, log: LogSink): Promise<void> {
  const temp = join(workspaceBasesDir(options.dataDir), `.tmp-${randomUUID()}`);
  try {
    const checkout = await checkOut({ source: options.source, dir: temp, branch: 'unused', log, ...(options.identity ? { identity: options.identity } : {}) }, { branch: undefined, shared: true });
    if (checkout.baseCommit !== options.source.commit) {
      throw new GitCommandError(`${options.source.ref} is ${checkout.baseCommit}, not the task's commit ${options.source.commit}`);
    }
    // tsk's own pointer, whatever `clone --shared` wrote: the path the sandbox's read-only mount has.
    await writeFile(join(temp, '.git', 'objects', 'info', 'alternates'), `${objectsDir}\n`);
    if (options.owner !== undefined) {
      // Once per base, never per task: the overlay gives each file's owner to its copy in a task's layer.
      const owned = await runProcess('chown', ['-R', `${options.owner.uid}:${options.owner.gid}`, '--', temp]);
      if (owned.exitCode !== 0) throw new GitCommandError(`Could not hand the checkout to uid ${options.owner.uid}: ${owned.stderr.trim()}`);
    }
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

interface Lease {
  pid: number;
  host: string;
}

async function takeLease(bases: string, key: string, leaseId: string): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(leaseId)) throw new InputError(`"${leaseId.slice(0, 40)}" is not a lease id`);
  const leases = join(bases, `${key}.leases`);
  await mkdir(leases, { recursive: true, mode: 0o700 });
  const lease: Lease = { pid: process.pid, host: hostname() };
  await writeFile(join(leases, leaseId), JSON.stringify(lease));
  const used = join(bases, `${key}.used`);
  const now = new Date();
  await utimes(used, now, now).catch(async () => writeFile(used, ''));
}

async function liveLeases(leasesDir: string): Promise<number> {
  let live = 0;
  for (const name of await readdir(leasesDir).catch(() => [] as string[])) {
    const path = join(leasesDir, name);
    const lease = await readFile(path, 'utf8').then((text) => JSON.parse(text) as Partial<Lease>, () => undefined);
    // A lease from another host (a data dir shared over the network) is trusted; one of a dead local process is stale.
    const alive = lease !== undefined && typeof lease.pid === 'number' && (lease.host !== hostname() || processAlive(lease.pid));
    if (alive) live++;
    else await unlink(path).catch(() => undefined);
  }
  return live;
}

export interface PruneOptions {
  /** @defaultValue {@link BASE_IDLE_MS} (0: every base without a live lease, as `tsk clean` does) */
  idleMs?: number;
  /** @defaultValue {@link MAX_BASES} */
  maxBases?: number;
  now?: number;
}

/**
 * Remove bases no task holds that are idle or beyond the most recent {@link MAX_BASES}, and what failed
 * attempts left. Each is renamed aside under its lock first, so no task starts on a base being removed.
 * Returns how many were removed.
 */
export async function pruneWorkspaceBases(dataDir: string, options: PruneOptions = {}): Promise<number> {
  const bases = workspaceBasesDir(dataDir);
  const { idleMs = BASE_IDLE_MS, maxBases = MAX_BASES, now = Date.now() } = options;
  const names = await readdir(bases).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry.startsWith('.trash-') || entry.startsWith('.tmp-'))) {
    // A `.tmp-` folder is a base being made right now, or one a killed process left: only old ones go.
    const path = join(bases, name);
    const age = now - ((await stat(path).catch(() => undefined))?.mtimeMs ?? now);
    if (name.startsWith('.trash-') || age > BASE_IDLE_MS) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
  const keys = names.filter((entry) => /^[0-9a-f]{32}$/.test(entry));
  const used = await Promise.all(keys.map(async (key) => ({ key, at: (await stat(join(bases, `${key}.used`)).catch(() => undefined))?.mtimeMs ?? 0 })));
  used.sort((a, b) => b.at - a.at);
  let removed = 0;
  for (const [rank, { key, at }] of used.entries()) {
    if (rank < maxBases && now - at < idleMs) continue;
    const lock = await acquireBuildLock(join(bases, `${key}.lock`));
    try {
      if ((await liveLeases(join(bases, `${key}.leases`))) > 0) continue;
      const trash = join(bases, `.trash-${randomUUID()}`);
      await rename(join(bases, key), trash);
      await rm(join(bases, `${key}.used`), { force: true });
      await rm(join(bases, `${key}.leases`), { recursive: true, force: true });
      await rm(trash, { recursive: true, force: true });
      removed++;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    } finally {
      await lock.release();
    }
  }
  debug.git('pruned %d workspace base(s) in %s', removed, bases);
  return removed;
}
