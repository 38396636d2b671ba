import { createHash } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorCode } from '../common/error-code.js';
import { GitCommandError } from '../errors/git-command-error.js';
import { log as debug } from '../logging/logger.js';
import { runGit, tryGit } from './git-cli.js';
import { isCommitHash } from './git-values.js';

/** Where git-lfs keeps object contents in a git directory (the default `lfs.storage`). */
export function lfsObjectsDir(gitCommonDir: string): string {
  return join(gitCommonDir, 'lfs', 'objects');
}

/**
 * Does the repository use LFS at `commit`? True when any `.gitattributes` in that commit mentions the lfs
 * filter, or when the origin's git directory has an `lfs/` store (given as `originCommonDir`).
 */
export async function usesLfs(dir: string, commit: string, originCommonDir?: string): Promise<boolean> {
  if (originCommonDir !== undefined && existsSync(join(originCommonDir, 'lfs'))) return true;
  // `git grep` has no --end-of-options (git 2.39): the commit must be a hash, never something read as an option.
  if (!isCommitHash(commit)) throw new GitCommandError(`not a commit hash: ${JSON.stringify(commit)}`);
  // `git grep` over the commit's tree, not a JS walk: fast on big repositories, and no checkout needed.
  const found = await tryGit(['grep', '-q', '-F', '-e', 'filter=lfs', commit, '--', ':(glob)**/.gitattributes'], {
    cwd: dir,
    trustRepository: true,
  });
  return found !== undefined;
}

/** The filter settings `git lfs install` writes. */
export const LFS_FILTER: ReadonlyArray<readonly [string, string]> = [
  ['filter.lfs.clean', 'git-lfs clean -- %f'],
  ['filter.lfs.smudge', 'git-lfs smudge -- %f'],
  ['filter.lfs.process', 'git-lfs filter-process'],
  ['filter.lfs.required', 'true'],
];

/**
 * Configure the LFS filter in the repository's own config (the keys `git lfs install --local` writes), so
 * the worker's and the sandbox's git run the filters whatever their global config says. Written directly
 * rather than through `git lfs install`, so a git-lfs missing on the worker fails at checkout with git's
 * own message instead of here.
 */
export async function configureLfsFilter(dir: string): Promise<void> {
  for (const [key, value] of LFS_FILTER) await runGit(['config', key, value], { cwd: dir, trustRepository: true });
}

/** How {@link shareObjects} places files. */
export interface ShareObjectsOptions {
  /**
   * Copy, and keep only files whose content hashes to their name. For objects coming out of a workspace:
   * the agent could otherwise plant wrong content under the oid of an object the origin has not fetched
   * yet, and the user would later check it out as genuine.
   */
  verify: boolean;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Copy `from` to `to` through a temporary name so a crash never leaves a truncated object that git-lfs
 * would trust. Returns false when `to` already exists (objects are content-addressed: same name, same
 * content) or fails verification.
 */
async function placeObject(from: string, to: string, options: ShareObjectsOptions): Promise<boolean> {
  if (existsSync(to)) return false;
  const temp = `${to}.tsk-${process.pid}.tmp`;
  try {
    // FICLONE: a copy-on-write clone where the filesystem can (btrfs, XFS), a plain copy elsewhere. Either
    // way a separate file: writing to it never changes the original.
    await copyFile(from, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    if (options.verify && (await sha256File(temp)) !== basename(to)) {
      debug.git('LFS object %s does not match its name; not copied', from);
      return false;
    }
    await rename(temp, to);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Copy every regular file under `from` to the same path under `to` (symlinks are ignored), skipping
 * files already there. Returns how many files were added; a missing `from` adds nothing.
 */
export async function shareObjects(from: string, to: string, options: ShareObjectsOptions): Promise<number> {
  let entries;
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  await mkdir(to, { recursive: true });
  let added = 0;
  for (const entry of entries) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) added += await shareObjects(source, target, options);
    else if (entry.isFile() && (await placeObject(source, target, options))) added += 1;
  }
  return added;
}
