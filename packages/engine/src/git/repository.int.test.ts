import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/input-error.js';
import { git, isolateGitConfig, makeRepo, tempDir } from '../test-utils/git-fixtures.js';
import { resolveRepository } from './repository.js';

describe('resolveRepository', () => {
  beforeEach(isolateGitConfig);

  it('should resolve a subdirectory to the top of its work tree', async () => {
    const repo = await makeRepo({ 'src/deep/a.txt': 'a\n' });
    const info = await resolveRepository(join(repo, 'src', 'deep'));
    expect(info).toEqual({
      workdir: repo,
      mainWorkdir: repo,
      gitDir: join(repo, '.git'),
      commonDir: join(repo, '.git'),
      currentBranch: 'main',
      head: git(repo, 'rev-parse', 'HEAD'),
    });
  });

  it('should report an unborn HEAD and a detached HEAD', async () => {
    const empty = await makeRepo({}, { commit: false });
    expect(await resolveRepository(empty)).toMatchObject({ currentBranch: 'main', head: undefined });

    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, 'switch', '--quiet', '--detach');
    expect(await resolveRepository(repo)).toMatchObject({ currentBranch: undefined, head: git(repo, 'rev-parse', 'HEAD') });
  });

  it('should resolve a linked worktree to its main repository', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const wt = join(await tempDir(), 'wt');
    git(repo, 'worktree', 'add', '--quiet', '-b', 'side', wt);
    const info = await resolveRepository(wt);
    expect(info).toMatchObject({ workdir: wt, mainWorkdir: repo, commonDir: join(repo, '.git'), currentBranch: 'side' });
    expect(info.gitDir).toBe(join(repo, '.git', 'worktrees', 'wt'));
  });

  it('should reject a directory outside any repository, a missing path and a bare repository', async () => {
    const dir = await tempDir();
    await expect(resolveRepository(dir)).rejects.toThrow(`${dir} is not in a git repository`);
    await expect(resolveRepository(join(dir, 'missing'))).rejects.toBeInstanceOf(InputError);
    git(dir, 'init', '--quiet', '--bare', 'bare.git');
    await expect(resolveRepository(join(dir, 'bare.git'))).rejects.toThrow(/bare git repository/);
  });
});
