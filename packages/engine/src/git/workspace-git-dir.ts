import { lstat, open, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isBranchName, isCommitHash } from './git-values.js';
import { GitCommandError } from '../errors/git-command-error.js';

/**
 * Files that make a git directory use another place: alternates borrow another repository's objects,
 * `commondir` and `gitdir` turn it into a worktree of another repository.
 */
const REDIRECTS = new Set(['objects/info/alternates', 'objects/info/http-alternates', 'commondir', 'gitdir']);

/** Beyond this many entries in `.git`, the agent is wasting the worker's time: refuse rather than walk on. */
const MAX_ENTRIES = 1_000_000;

function refuse(gitDir: string, path: string, why: string): never {
  throw new GitCommandError(`${join(gitDir, path)} ${why}: the workspace's repository points outside itself, refusing to collect the result`);
}

/**
 * Check the agent's `.git` before host git reads anything of it: a real directory holding only
 * directories and regular files, and nothing that points git elsewhere. A symbolic link would let the
 * agent aim host git at any file of the host (to read it as objects, or — had git written there — to
 * overwrite it); a FIFO or device would hang or feed it; an alternates file would lend it another
 * repository's objects. The agent's container is gone by now, so nothing changes the folder after this
 * check. With `whiteouts`, `gitDir` is the `.git` of a task's copy-on-write layer: its overlay whiteouts
 * (character devices 0:0, which only the overlay can make) mark removed files and are allowed; the base's
 * own alternates file is tsk's and lives in the base, so one in the layer is the agent's and refused.
 *
 * @throws GitCommandError naming the first offending entry
 */
export async function inspectWorkspaceGitDir(gitDir: string, options: { whiteouts?: boolean } = {}): Promise<void> {
  const top = await lstat(gitDir).catch(() => undefined);
  if (!top?.isDirectory()) throw new GitCommandError(`${gitDir} is not a directory: the workspace's repository was replaced, refusing to use it`);
  let count = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (++count > MAX_ENTRIES) refuse(gitDir, '', `holds more than ${MAX_ENTRIES} entries`);
      const path = join(dir, entry.name);
      const rel = relative(gitDir, path);
      if (entry.isSymbolicLink()) refuse(gitDir, rel, 'is a symbolic link');
      if (entry.isDirectory()) await walk(path);
      else if (options.whiteouts && entry.isCharacterDevice() && (await lstat(path)).rdev === 0) continue;
      else if (!entry.isFile()) refuse(gitDir, rel, 'is not a regular file');
      else if (REDIRECTS.has(rel) || /^modules\/.+\/(commondir|gitdir|objects\/info\/(http-)?alternates)$/.test(rel)) refuse(gitDir, rel, 'redirects git');
    }
  };
  await walk(gitDir);
}

/** At most this much of a ref file is read: a ref is one line. */
const REF_FILE_BYTES = 4096;

async function readSmallFile(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const buffer = Buffer.alloc(REF_FILE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, REF_FILE_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } catch {
    return undefined; // a directory where a ref should be
  } finally {
    await handle.close();
  }
}

async function packedRef(gitDir: string, ref: string): Promise<string | undefined> {
  const handle = await open(join(gitDir, 'packed-refs'), 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    for await (const line of handle.readLines()) {
      const [hash = '', name] = line.split(' ');
      if (name === ref && isCommitHash(hash)) return hash;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * The commit the agent's HEAD names, read from the files themselves rather than through git (which would
 * read the agent's config first), or undefined when HEAD is a branch with no commit yet. Only what a
 * checked {@link inspectWorkspaceGitDir} folder holds is read (and `lowerGitDir`, tsk's own base of a
 * copy-on-write layer, for a branch the layer does not hold). Whether the commit exists is for git to
 * find out later.
 *
 * @throws GitCommandError when HEAD is not something git itself would have written
 */
export async function readWorkspaceHead(gitDir: string, lowerGitDir?: string): Promise<string | undefined> {
  const head = (await readSmallFile(join(gitDir, 'HEAD')))?.trim();
  if (head === undefined) throw new GitCommandError(`${gitDir}/HEAD is missing: the agent removed it`);
  if (isCommitHash(head)) return head;
  const match = /^ref: (refs\/heads\/.+)$/.exec(head);
  if (!match?.[1] || !isBranchName(match[1])) throw new GitCommandError(`${gitDir}/HEAD names no branch git could have written: "${head.slice(0, 80)}"`);
  const ref = match[1];
  const loose = (await readSmallFile(join(gitDir, ref)))?.trim();
  if (loose !== undefined) {
    if (!isCommitHash(loose)) throw new GitCommandError(`${gitDir}/${ref} does not hold a commit hash`);
    return loose;
  }
  const packed = await packedRef(gitDir, ref);
  if (packed !== undefined || lowerGitDir === undefined) return packed;
  // A copy-on-write layer's HEAD may name a branch the agent left as the base had it.
  return readWorkspaceHeadRef(lowerGitDir, ref);
}

async function readWorkspaceHeadRef(gitDir: string, ref: string): Promise<string | undefined> {
  const loose = (await readSmallFile(join(gitDir, ref)))?.trim();
  if (loose !== undefined && isCommitHash(loose)) return loose;
  return packedRef(gitDir, ref);
}
