import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskSource } from '../model/task-spec.js';
import { git, isolateGitConfig, makeRepo, sharedFiles, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { callAsUser, chownTo, ensureTestUser, type TestUser } from '../test-utils/run-as-user.js';
import { createSnapshot } from './snapshot.js';
import { prepareWorkspace, type PrepareWorkspaceOptions, type Workspace } from './workspace.js';

const ID = 'Link_001';
const BRANCH = 'tsk/feat/links/Link_001';

/**
 * An origin with every kind of object file a clone could link to: a pack, loose objects, an LFS object
 * and an absorbed submodule (`.git/modules/libs/sub`) with objects of its own.
 */
async function richOrigin(): Promise<{ repo: string; source: TaskSource; extra: string[] }> {
  const sub = await makeRepo({ 'lib.txt': 'lib\n' });
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  git(repo, 'lfs', 'install', '--local');
  git(repo, 'lfs', 'track', '*.bin');
  await writeFiles(repo, { 'big.bin': 'lfs content\n' });
  git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'lfs and submodule');
  git(repo, 'gc', '--quiet');
  await writeFiles(repo, { 'b.txt': 'loose\n' });
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'loose objects');
  const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
  return { repo, source: { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit }, extra: [sub] };
}

function expectComplete(dir: string): void {
  expect(readFileSync(join(dir, 'big.bin'), 'utf8')).toBe('lfs content\n');
  expect(readFileSync(join(dir, 'libs/sub/lib.txt'), 'utf8')).toBe('lib\n');
  expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('loose\n');
}

describe('prepareWorkspace never shares a file with the origin', () => {
  let user: TestUser | undefined;
  beforeAll(() => {
    user = ensureTestUser();
  });
  beforeEach(isolateGitConfig);

  it('should copy objects, LFS objects and submodules when run by the origin owner (this process)', async () => {
    const { repo, source, extra } = await richOrigin();
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({ source, dir, branch: BRANCH });

    expectComplete(dir);
    expect(sharedFiles(join(dir, '.git'), join(repo, '.git'), ...extra.map((path) => join(path, '.git')))).toEqual([]);
  });

  // The normal laptop case: tsk runs as the user who owns the repository, so the kernel lets it link.
  // As root this runs prepareWorkspace in a node process of the `tsk-test` account; otherwise this
  // process is already an ordinary user.
  it('should copy objects, LFS objects and submodules when run by a non-root owner of the origin', async () => {
    const { repo, source, extra } = await richOrigin();
    const parent = await tempDir();
    const dir = join(parent, 'repo');
    const options: PrepareWorkspaceOptions = { source, dir, branch: BRANCH };

    if (user === undefined) {
      await prepareWorkspace(options);
    } else {
      chownTo(user, repo, parent, ...extra);
      const config = join(await tempDir(), 'gitconfig');
      writeFileSync(config, '[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n');
      chownTo(user, join(config, '..'));
      const workspace = await callAsUser<Workspace>(user, new URL('./workspace.ts', import.meta.url), 'prepareWorkspace', [options], {
        GIT_CONFIG_GLOBAL: config,
      });
      expect(workspace.baseCommit).toBe(source.commit);
      expect(lstatSync(join(dir, '.git', 'HEAD')).uid).toBe(user.uid);
    }

    expectComplete(dir);
    expect(sharedFiles(join(dir, '.git'), join(repo, '.git'), ...extra.map((path) => join(path, '.git')))).toEqual([]);
  });
});
