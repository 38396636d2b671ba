import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/index.js';
import { git, isolateGitConfig, makeRepo, tempDir } from '../test-utils/git-fixtures.js';
import { pinSnapshot, sourceAt } from './snapshot-pin.js';

const ID = 'Pin_0001';

describe('pinSnapshot / sourceAt', () => {
  beforeEach(isolateGitConfig);

  it('should pin a local source at the commit under the task’s own snapshot ref', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const commit = git(repo, 'rev-parse', 'HEAD');

    const source = await sourceAt({ kind: 'local', repoPath: repo, ref: 'refs/tsk/snapshots/Other_01', commit }, ID, commit, 'unused');

    expect(source).toEqual({ kind: 'local', repoPath: repo, ref: `refs/tsk/snapshots/${ID}`, commit });
    expect(git(repo, 'rev-parse', `refs/tsk/snapshots/${ID}`)).toBe(commit);
  });

  it('should refuse a commit or ref from a task record that is not one, before git runs', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const commit = git(repo, 'rev-parse', 'HEAD');
    const marker = join(await tempDir(), 'marker');

    await expect(pinSnapshot(repo, ID, '--stdin')).rejects.toBeInstanceOf(InputError);
    await expect(pinSnapshot(repo, ID, 'HEAD')).rejects.toThrow(/expected a full commit hash/);
    await expect(pinSnapshot(repo, '--stdin', commit)).rejects.toThrow(/invalid task id/);
    const remote = { kind: 'remote' as const, url: `file://${repo}`, ref: 'refs/heads/main', commit };
    await expect(sourceAt(remote, ID, commit, `--upload-pack=touch ${marker}`)).rejects.toThrow(/source\.ref must be/);
    await expect(sourceAt(remote, ID, commit, 'refs/heads/a..b')).rejects.toThrow(/source\.ref names a branch that contains "\.\."/);
    expect(await sourceAt(remote, ID, commit, 'refs/heads/tsk/feat/x/Pin_0001')).toEqual({ ...remote, ref: 'refs/heads/tsk/feat/x/Pin_0001' });
    expect(git(repo, 'for-each-ref', 'refs/tsk')).toBe('');
    expect(existsSync(marker)).toBe(false);
  });
});
