import { constants, type Stats } from 'node:fs';
import { access, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors/index.js';
import { tskDirs } from './paths.js';

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/**
 * Where the locks on Docker objects (image builds, proxies) live: `$TSK_LOCK_DIR`, else `<dataDir>/locks`,
 * created with mode 0700 when missing.
 *
 * Per user: in a folder other users can write to, any of them can plant a lock naming a live process
 * (pid 1) and block every task for good, or delete a lock someone holds. So different OS users never
 * meet in a lock, and share no Docker object a lock guards (proxies and their networks are per uid; two
 * users building one image tag at once only build it twice).
 *
 * Under the data dir, not the runtime dir: a CLI in a login shell and a worker started by systemd see
 * different XDG_RUNTIME_DIRs but share HOME and the Docker engine, and their locks must meet.
 *
 * @throws ConfigError naming the folder when it cannot be created or is unsafe (see {@link lockDirProblem}).
 */
export async function ensureDockerLockDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env.TSK_LOCK_DIR ? env.TSK_LOCK_DIR : undefined;
  const dir = fromEnv ?? join(tskDirs(env).dataDir, 'locks');
  const what = fromEnv === undefined ? `Lock folder ${dir}` : `Lock folder ${dir} (TSK_LOCK_DIR)`;
  // 0700 for every folder it creates, as XDG asks for data directories; an existing one is checked below.
  const mkdirError = await mkdir(dir, { recursive: true, mode: 0o700 }).then(
    () => undefined,
    (error: unknown) => error,
  );
  let stats: Stats;
  try {
    stats = await lstat(dir);
  } catch (error) {
    const cause = mkdirError ?? error;
    throw new ConfigError(`${what} cannot be created: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const problem = lockDirProblem(stats, process.getuid?.());
  if (problem !== undefined) {
    const otherwise = fromEnv === undefined ? 'or set TSK_LOCK_DIR to a folder of your own' : `or unset TSK_LOCK_DIR to use ${join(tskDirs(env).dataDir, 'locks')}`;
    throw new ConfigError(`${what} ${problem.what}`, { hint: `${problem.fix}, ${otherwise}` });
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new ConfigError(`${what} is not writable by you`, { hint: 'fix its owner or mode, or point TSK_LOCK_DIR at a folder of your own', cause: error });
  }
  return dir;
}

/** Why a lock folder is unsafe, and the fix. */
export interface LockDirProblem {
  what: string;
  fix: string;
}

/**
 * Why a lock folder (its `lstat`) is unsafe for a process of `uid`, or `undefined` when it is fine: a
 * symbolic link (whoever owns the link decides where locks go), not a directory, owned by another user
 * than `uid` or root, or writable by group or others without the sticky bit (which keeps them from
 * removing or replacing our lock files). `uid` undefined (no POSIX users) skips the owner check.
 */
export function lockDirProblem(stats: Pick<Stats, 'isSymbolicLink' | 'isDirectory' | 'uid' | 'mode'>, uid: number | undefined): LockDirProblem | undefined {
  const risk = `another user could block or break tsk's locks there`;
  if (stats.isSymbolicLink()) return { what: `is a symbolic link (${risk})`, fix: 'use the folder itself' };
  if (!stats.isDirectory()) return { what: 'is not a directory', fix: 'remove it' };
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
    return { what: `belongs to uid ${stats.uid} (${risk})`, fix: `run tsk as uid ${stats.uid}` };
  }
  if ((stats.mode & GROUP_OR_OTHER_WRITE) !== 0 && (stats.mode & STICKY) === 0) {
    return { what: `is writable by other users without the sticky bit (${risk})`, fix: 'run `chmod go-w` on it' };
  }
  return undefined;
}
