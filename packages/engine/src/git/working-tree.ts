import { copyFile, mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGit, tryGit } from './git-cli.js';
import { FALLBACK_IDENTITY, type GitIdentity } from './identity.js';
import type { RepositoryInfo } from './repository.js';

/**
 * Never let git split our temporary index: a split index writes `sharedindex.*` files into the user's
 * git directory, and the point of the temporary index is to leave no trace there.
 */
const TEMP_INDEX_CONFIG = ['-c', 'core.splitIndex=false'];

/**
 * Start the temporary index from a copy of the user's: it carries the stat data of every tracked file, so
 * `git add -A` only rehashes (and runs LFS clean filters on) what changed instead of the whole tree. A
 * split index cannot be copied alone (it points at a shared index by path, and git freshens that file in
 * the user's git directory when it reads a copy), so that case, like a repository without an index, is
 * left to `read-tree`. The user's index is only read. `snapshot-stat-reuse.int.test.ts` holds the result
 * to a fresh index's and counts what gets hashed.
 */
async function seedIndex(info: RepositoryInfo, indexFile: string): Promise<boolean> {
  const names = await readdir(info.gitDir);
  if (!names.includes('index') || names.some((name) => name.startsWith('sharedindex.'))) return false;
  const original = join(info.gitDir, 'index');
  const { atime, mtime } = await stat(original);
  await copyFile(original, indexFile);
  // The copy keeps the original's time: git trusts an entry's stat data only when the file is older than
  // the index, so a file changed within the same second as the user's last `git add` ("racily clean")
  // is rehashed as it would be with the user's own index, not taken as unchanged.
  await utimes(indexFile, atime, mtime);
  return true;
}

/** The repository's configured `user.name` and `user.email`; without both, the snapshot is tsk's own commit, so tsk signs it. */
async function committerIdentity(info: RepositoryInfo): Promise<GitIdentity> {
  const config = (await tryGit(['config', '--get-regexp', '^user\\.(name|email)$'], { cwd: info.workdir })) ?? '';
  const value = (key: string) => config.split('\n').findLast((line) => line.startsWith(`${key} `))?.slice(key.length + 1);
  const name = value('user.name');
  const email = value('user.email');
  return name && email ? { name, email } : FALLBACK_IDENTITY;
}

/** The tree of the working tree as `git add -A` sees it, written through a throw-away index. */
async function writeWorkingTree(info: RepositoryInfo): Promise<string> {
  const tempDir = await mkdtemp(join(tmpdir(), 'tsk-snapshot-'));
  try {
    const indexFile = join(tempDir, 'index');
    const git = { cwd: info.workdir, env: { GIT_INDEX_FILE: indexFile } };
    if (!(await seedIndex(info, indexFile)) && info.head !== undefined) {
      await runGit([...TEMP_INDEX_CONFIG, 'read-tree', info.head], git);
    }
    // The user's own git does the adding: .gitignore, LFS clean filters, gitlinks for submodules,
    // autocrlf and sparse checkout all behave exactly as they would for `git add -A`.
    await runGit([...TEMP_INDEX_CONFIG, 'add', '-A'], git);
    return (await runGit([...TEMP_INDEX_CONFIG, 'write-tree'], git)).trim();
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

/**
 * Commit the working tree of `info.workdir` into its repository's object database without touching the
 * user's index, HEAD, work tree or branches, and return the commit id. When nothing differs from HEAD,
 * HEAD itself is the snapshot (no new commit).
 */
export async function snapshotWorkingTree(info: RepositoryInfo, message: string): Promise<string> {
  const tree = await writeWorkingTree(info);
  if (info.head !== undefined) {
    const headTree = await runGit(['rev-parse', '--verify', '--end-of-options', `${info.head}^{tree}`], { cwd: info.workdir });
    if (headTree.trim() === tree) return info.head;
  }
  const identity = await committerIdentity(info);
  const parents = info.head === undefined ? [] : ['-p', info.head];
  // commit-tree rather than `git commit`: no hooks, no index, no ref moves. Never signed: this commit is
  // internal, and a signing prompt (or a missing key) must not block `tsk add`.
  const stdout = await runGit(['commit-tree', '--no-gpg-sign', tree, ...parents, '-m', message], {
    cwd: info.workdir,
    env: {
      GIT_AUTHOR_NAME: identity.name,
      GIT_AUTHOR_EMAIL: identity.email,
      GIT_COMMITTER_NAME: identity.name,
      GIT_COMMITTER_EMAIL: identity.email,
    },
  });
  return stdout.trim();
}
