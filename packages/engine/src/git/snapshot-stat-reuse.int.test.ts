import { chmod, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { git, isolateGitConfig, makeRepo, repoState, writeFiles } from '../test-utils/git-fixtures.js';
import { createSnapshot } from './snapshot.js';

/**
 * The snapshot's temporary index starts as a copy of the user's own (working-tree.ts, `seedIndex`), so
 * `git add -A` hashes only the files whose stat data changed since the user's git last looked. These tests
 * hold it to two things: the tree is the one a fresh index (every file hashed) gives, in every state a
 * work tree can be in; and unchanged files really are not hashed again.
 */

const ID = 'Stat_001';

/** The tree `git add -A` writes through a fresh index: every file read and hashed (the reference). */
async function hashedTree(repo: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsk-fresh-index-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const env = { ...process.env, GIT_INDEX_FILE: join(dir, 'index') };
  const run = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
  if (hasHead(repo)) run('read-tree', 'HEAD');
  run('add', '-A');
  return run('write-tree');
}

function hasHead(repo: string): boolean {
  try {
    git(repo, 'rev-parse', '--verify', '--quiet', 'HEAD');
    return true;
  } catch {
    return false;
  }
}

/** Snapshot `repo`, check the user's repository is untouched, and return the snapshot's tree. */
async function snapshotTree(repo: string): Promise<string> {
  const before = repoState(repo);
  const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
  expect(repoState(repo)).toEqual(before);
  git(repo, 'update-ref', '-d', snapshot.ref);
  return git(repo, 'rev-parse', `${snapshot.commit}^{tree}`);
}

/** Wait until the clock is in a later second: files written before are no longer racily clean. */
function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1100));
}

/**
 * Right after a commit: give the user's index the stat data of every file, written in a later second
 * than the files, as a user's `git status` a while later would. (Files written in the same second as the
 * index are "racily clean", and git hashes them again whatever index it starts from.)
 */
async function settleIndex(repo: string): Promise<void> {
  await nextSecond();
  git(repo, 'read-tree', 'HEAD');
  git(repo, 'update-index', '-q', '--refresh');
}

describe('snapshot from the user\'s index (stat data reused)', () => {
  beforeEach(isolateGitConfig);

  it('gives the tree of a fresh index for staged, unstaged, deleted, renamed, untracked, ignored, intent-to-add, mode and symlink changes', async () => {
    const repo = await makeRepo({
      '.gitignore': '*.log\nbuild/\n',
      'staged.txt': 'v1\n',
      'unstaged.txt': 'v1\n',
      'both.txt': 'v1\n',
      'rm-staged.txt': 'bye\n',
      'rm-unstaged.txt': 'bye\n',
      'moved.txt': 'moving\n',
      'script.sh': 'echo hi\n',
      'link': 'placeholder\n',
      'same.txt': 'unchanged\n',
    });
    await nextSecond();
    await writeFiles(repo, { 'staged.txt': 'v2 staged\n', 'both.txt': 'v2 staged\n', 'intent.txt': 'intent\n' });
    git(repo, 'add', 'staged.txt', 'both.txt');
    git(repo, 'add', '-N', 'intent.txt');
    git(repo, 'rm', '--quiet', 'rm-staged.txt');
    git(repo, 'mv', 'moved.txt', 'renamed.txt');
    await writeFiles(repo, {
      'both.txt': 'v3 on top\n',
      'unstaged.txt': 'v2 unstaged\n',
      'intent.txt': 'intent, written after\n',
      'new/untracked.txt': 'untracked\n',
      'debug.log': 'ignored\n',
      'build/out.bin': 'ignored\n',
    });
    await rm(join(repo, 'rm-unstaged.txt'));
    await chmod(join(repo, 'script.sh'), 0o755);
    await rm(join(repo, 'link'));
    await symlink('same.txt', join(repo, 'link'));

    const tree = await snapshotTree(repo);

    expect(tree).toBe(await hashedTree(repo));
    const files = git(repo, 'ls-tree', '-r', '--name-only', tree).split('\n');
    expect(files.sort()).toEqual(['.gitignore', 'both.txt', 'intent.txt', 'link', 'new/untracked.txt', 'renamed.txt', 'same.txt', 'script.sh', 'staged.txt', 'unstaged.txt']);
    expect(git(repo, 'ls-tree', tree, 'script.sh')).toMatch(/^100755 /);
    expect(git(repo, 'ls-tree', tree, 'link')).toMatch(/^120000 /);
    expect(git(repo, 'show', `${tree}:both.txt`)).toBe('v3 on top');
    expect(git(repo, 'show', `${tree}:intent.txt`)).toBe('intent, written after');
  });

  it('gives the tree of a fresh index for a submodule moved to another commit, with dirty files inside', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    const inside = join(repo, 'libs/sub');
    await writeFile(join(inside, 'lib.txt'), 'lib v2\n');
    git(inside, 'commit', '--quiet', '-am', 'lib v2');
    await writeFile(join(inside, 'lib.txt'), 'dirty, uncommitted\n');

    const tree = await snapshotTree(repo);

    expect(tree).toBe(await hashedTree(repo));
    expect(git(repo, 'ls-tree', tree, 'libs/sub')).toBe(`160000 commit ${git(inside, 'rev-parse', 'HEAD')}\tlibs/sub`);
  });

  it('gives the tree of a fresh index in the middle of a merge with conflicts', async () => {
    const repo = await makeRepo({ 'conflict.txt': 'base\n', 'other.txt': 'base\n' });
    git(repo, 'switch', '--quiet', '-c', 'side');
    await writeFiles(repo, { 'conflict.txt': 'side\n', 'other.txt': 'side\n' });
    git(repo, 'commit', '--quiet', '-am', 'side');
    git(repo, 'switch', '--quiet', 'main');
    await writeFiles(repo, { 'conflict.txt': 'main\n' });
    git(repo, 'commit', '--quiet', '-am', 'main');
    expect(() => git(repo, 'merge', '--quiet', 'side')).toThrow();
    expect(git(repo, 'ls-files', '--unmerged')).not.toBe('');

    const tree = await snapshotTree(repo);

    expect(tree).toBe(await hashedTree(repo));
    expect(git(repo, 'show', `${tree}:conflict.txt`)).toMatch(/^<<<<<<< HEAD\nmain\n=======\nside\n>>>>>>> side$/);
  });

  it('hashes only the files whose stat data changed (counted by a clean filter)', async () => {
    const count = join(await mkdtemp(join(tmpdir(), 'tsk-filter-log-')), 'hashed');
    onTestFinished(() => rm(join(count, '..'), { recursive: true, force: true }));
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.txt`, `file ${i}\n`]));
    const repo = await makeRepo({ '.gitattributes': '*.txt filter=count\n', ...files }, { commit: false });
    // git runs a clean filter each time it hashes a file's content: the filter notes the file's name.
    git(repo, 'config', 'filter.count.clean', `sh -c 'echo "$1" >> ${count}; cat' - %f`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    await settleIndex(repo);
    await writeFile(join(repo, 'f7.txt'), 'file 7, edited\n');
    await writeFile(count, '');

    await snapshotTree(repo);
    // The edited file only (git may read it twice: once to add it, once more as racily clean in the new index).
    expect(new Set((await readFile(count, 'utf8')).split('\n').filter(Boolean))).toEqual(new Set(['f7.txt']));

    // The same filter, through a fresh index, sees every file: the count is real.
    await writeFile(count, '');
    await hashedTree(repo);
    expect(new Set((await readFile(count, 'utf8')).split('\n').filter(Boolean))).toEqual(new Set(Object.keys(files)));
  });

  it('takes a file whose stat data looks unchanged as unchanged, as the user\'s git does (git\'s own rule, documented)', async () => {
    // git decides "unchanged" from stat data: size, mtime, inode, and ctime unless core.trustctime is
    // false. A same-size rewrite with its mtime put back (ctime ignored here) is therefore invisible to
    // `git status` and `git add -A` alike, and the snapshot follows the user's git: it keeps the indexed
    // content. Only a fresh index, which hashes everything, sees the change.
    const repo = await makeRepo({ 'same-size.txt': 'aaaa\n' });
    git(repo, 'config', 'core.trustctime', 'false');
    await settleIndex(repo);
    const path = join(repo, 'same-size.txt');
    const { atime, mtime } = await stat(path);
    await nextSecond();
    await writeFile(path, 'bbbb\n');
    await utimes(path, atime, mtime);

    const tree = await snapshotTree(repo);

    expect(git(repo, 'show', `${tree}:same-size.txt`)).toBe('aaaa');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'show', `${await hashedTree(repo)}:same-size.txt`)).toBe('bbbb');
  });
});
