import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/index.js';
import { git, isolateGitConfig, makeRepo } from '../test-utils/git-fixtures.js';
import { pinSnapshot } from './snapshot-pin.js';

const ID = 'Pin_0001';

describe('pinSnapshot', () => {
  beforeEach(isolateGitConfig);

  it('should pin a commit under the task’s own snapshot ref', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const commit = git(repo, 'rev-parse', 'HEAD');
    await pinSnapshot(repo, ID, commit);
    expect(git(repo, 'rev-parse', `refs/tsk/snapshots/${ID}`)).toBe(commit);
  });

  it('should refuse a commit or id from a task record that is not one, before git runs', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const commit = git(repo, 'rev-parse', 'HEAD');
    await expect(pinSnapshot(repo, ID, '--stdin')).rejects.toBeInstanceOf(InputError);
    await expect(pinSnapshot(repo, ID, 'HEAD')).rejects.toThrow(/expected a full commit hash/);
    await expect(pinSnapshot(repo, '--stdin', commit)).rejects.toThrow(/invalid task id/);
    expect(git(repo, 'for-each-ref', 'refs/tsk')).toBe('');
  });
});
