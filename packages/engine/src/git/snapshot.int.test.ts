import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/input-error.js';
import { git, isolateGitConfig, makeRepo, repoState, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { createSnapshot, deleteSnapshotRef } from './snapshot.js';

const ID = 'Snap_001';

function treeFiles(repo: string, commit: string): string[] {
  return git(repo, 'ls-tree', '-r', '--name-only', commit).split('\n').filter(Boolean);
}

describe('createSnapshot', () => {
  beforeEach(isolateGitConfig);

  it('should capture staged, unstaged, deleted and untracked changes but no ignored files', async () => {
    const repo = await makeRepo({
      '.gitignore': '.env\nnode_modules/\n',
      'staged.txt': 'v1\n',
      'unstaged.txt': 'v1\n',
      'both.txt': 'v1\n',
      'deleted.txt': 'bye\n',
      'src/keep.txt': 'keep\n',
    });
    const head = git(repo, 'rev-parse', 'HEAD');
    await writeFiles(repo, { 'staged.txt': 'v2 staged\n', 'both.txt': 'v2 staged\n' });
    git(repo, 'add', 'staged.txt', 'both.txt');
    await writeFiles(repo, {
      'both.txt': 'v3 on top\n',
      'unstaged.txt': 'v2 unstaged\n',
      'src/new.txt': 'untracked\n',
      '.env': 'SECRET=1\n',
      'node_modules/pkg/index.js': 'x\n',
    });
    await rm(join(repo, 'deleted.txt'));
    git(repo, 'branch', 'other');
    const before = repoState(repo);

    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });

    expect(repoState(repo)).toEqual(before);
    expect(git(repo, 'diff', '--cached', '--name-only').split('\n').sort()).toEqual(['both.txt', 'staged.txt']);
    expect(snapshot).toEqual({ repoPath: repo, commit: expect.stringMatching(/^[0-9a-f]{40}$/), ref: `refs/tsk/snapshots/${ID}`, parentBranch: 'main' });
    expect(git(repo, 'rev-parse', snapshot.ref)).toBe(snapshot.commit);
    expect(git(repo, 'rev-parse', `${snapshot.commit}^`)).toBe(head);
    expect(git(repo, 'log', '-1', '--format=%s', snapshot.commit)).toBe(`tsk snapshot for task ${ID}`);
    expect(treeFiles(repo, snapshot.commit).sort()).toEqual(['.gitignore', 'both.txt', 'src/keep.txt', 'src/new.txt', 'staged.txt', 'unstaged.txt']);
    expect(git(repo, 'show', `${snapshot.commit}:both.txt`)).toBe('v3 on top');
    expect(git(repo, 'show', `${snapshot.commit}:unstaged.txt`)).toBe('v2 unstaged');
    expect(git(repo, 'show', `${snapshot.commit}:staged.txt`)).toBe('v2 staged');
  });

  it('should take a file changed in the same second as the user\'s last git add (racily clean) as changed', async () => {
    const repo = await makeRepo({ 'racy.txt': 'v0 zer\n' });
    // Add and rewrite (same size) within one second: git's stat data (second resolution) cannot tell them
    // apart, only its racy-clean check against the index file's own time can.
    for (;;) {
      const second = Math.floor(Date.now() / 1000);
      await writeFiles(repo, { 'racy.txt': 'v1 one\n' });
      git(repo, 'add', 'racy.txt');
      await writeFiles(repo, { 'racy.txt': 'v2 two\n' });
      if (Math.floor(Date.now() / 1000) === second) break;
    }
    // The snapshot's copy of the index is made in a later second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
    expect(git(repo, 'show', `${snapshot.commit}:racy.txt`)).toBe('v2 two');
  });

  it('should reuse HEAD when the working tree is clean', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n', '.gitignore': 'tmp/\n', 'tmp/x': 'ignored\n' });
    const snapshot = await createSnapshot({ repoPath: join(repo), taskId: ID, branch: undefined });
    expect(snapshot.commit).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(git(repo, 'rev-parse', snapshot.ref)).toBe(snapshot.commit);
  });

  it('should snapshot a repository without commits as a root commit', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' }, { commit: false });
    git(repo, 'add', 'a.txt');
    const before = repoState(repo);

    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });

    expect(repoState(repo)).toEqual(before);
    expect(git(repo, 'rev-list', '--parents', '-1', snapshot.commit)).toBe(snapshot.commit);
    expect(treeFiles(repo, snapshot.commit).sort()).toEqual(['a.txt', 'b.txt']);
    expect(snapshot.parentBranch).toBe('main');
    expect(() => git(repo, 'rev-parse', '--verify', 'HEAD')).toThrow();
  });

  it('should snapshot a branch commit with --branch and ignore the working tree', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, 'switch', '--quiet', '-c', 'feature');
    await writeFile(join(repo, 'a.txt'), 'feature\n');
    git(repo, 'commit', '--quiet', '-am', 'feature work');
    const feature = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'switch', '--quiet', 'main');
    await writeFile(join(repo, 'dirty.txt'), 'not in the snapshot\n');

    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: 'feature' });

    expect(snapshot.commit).toBe(feature);
    expect(snapshot.parentBranch).toBe('feature');
    expect(git(repo, 'rev-parse', snapshot.ref)).toBe(feature);
  });

  it('should reject an unknown branch with a one-line message', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const attempt = createSnapshot({ repoPath: repo, taskId: ID, branch: 'nope' });
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toThrow(`branch nope not found in ${repo}`);
  });

  it('should reject --branch in a repository without commits', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' }, { commit: false });
    await expect(createSnapshot({ repoPath: repo, taskId: ID, branch: 'main' })).rejects.toThrow(/has no commits yet/);
  });

  it('should reject a path outside any repository', async () => {
    const dir = await tempDir();
    const attempt = createSnapshot({ repoPath: dir, taskId: ID, branch: undefined });
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toThrow('is not in a git repository');
  });

  it('should reject an invalid task id before touching the repository', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    await expect(createSnapshot({ repoPath: repo, taskId: '../../HEAD', branch: undefined })).rejects.toBeInstanceOf(InputError);
  });

  it('should snapshot a linked worktree and keep the ref in the main repository', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const wt = join(await tempDir(), 'wt');
    git(repo, 'worktree', 'add', '--quiet', '-b', 'wt-branch', wt);
    await writeFile(join(wt, 'a.txt'), 'edited in worktree\n');
    const mainBefore = repoState(repo);
    const wtBefore = repoState(wt, git(wt, 'rev-parse', '--absolute-git-dir'));

    const snapshot = await createSnapshot({ repoPath: wt, taskId: ID, branch: undefined });

    expect(snapshot.repoPath).toBe(repo);
    expect(snapshot.parentBranch).toBe('wt-branch');
    expect(git(repo, 'rev-parse', snapshot.ref)).toBe(snapshot.commit);
    expect(git(repo, 'show', `${snapshot.commit}:a.txt`)).toBe('edited in worktree');
    expect(repoState(repo)).toEqual(mainBefore);
    expect(repoState(wt, git(wt, 'rev-parse', '--absolute-git-dir'))).toEqual(wtBefore);
  });

  it('should record the submodule commit as a gitlink', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    await writeFile(join(repo, 'a.txt'), 'dirty\n');

    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });

    expect(git(repo, 'ls-tree', snapshot.commit, 'libs/sub')).toBe(`160000 commit ${git(sub, 'rev-parse', 'HEAD')}\tlibs/sub`);
  });
});

describe('deleteSnapshotRef', () => {
  beforeEach(isolateGitConfig);

  it('should delete the ref and accept one that is already gone', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
    await deleteSnapshotRef(repo, ID);
    expect(git(repo, 'for-each-ref', 'refs/tsk')).toBe('');
    await expect(deleteSnapshotRef(repo, ID)).resolves.toBeUndefined();
  });

  it("should run none of the repository's hooks when it writes and deletes the ref", async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const ran = join(repo, 'hook-ran');
    // git runs reference-transaction for every ref update it makes; tsk's own refs must not run the repository's programs.
    await writeFile(join(repo, '.git', 'hooks', 'reference-transaction'), `#!/bin/sh\necho ran >> '${ran}'\n`, { mode: 0o755 });
    git(repo, 'update-ref', 'refs/heads/probe', 'HEAD');
    expect(existsSync(ran), 'the hook runs for git itself (the check can fail)').toBe(true);
    await rm(ran);
    await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
    await deleteSnapshotRef(repo, ID);
    expect(existsSync(ran)).toBe(false);
  });
});
