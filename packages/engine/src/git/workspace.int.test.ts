import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/input-error.js';
import type { TaskSource } from '../model/task-spec.js';
import { git, isolateGitConfig, makeRepo, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { createSnapshot } from './snapshot.js';
import { prepareWorkspace } from './workspace.js';

const ID = 'Work_001';
const BRANCH = 'tsk/feat/thing/Work_001';

async function localSource(repo: string): Promise<TaskSource> {
  const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
  return { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit };
}

describe('prepareWorkspace', () => {
  beforeEach(isolateGitConfig);

  it('should clone the snapshot onto a new branch with a committer identity', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    await writeFiles(repo, { 'a.txt': 'edited\n', 'new.txt': 'untracked\n' });
    const source = await localSource(repo);
    const dir = join(await tempDir(), 'repo');
    const lines: string[] = [];

    const workspace = await prepareWorkspace({ source, dir, branch: BRANCH, log: { write: (_s, line) => lines.push(line) } });

    expect(workspace).toEqual({ dir, baseCommit: source.commit });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(source.commit);
    expect(git(dir, 'symbolic-ref', '--short', 'HEAD')).toBe(BRANCH);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(dir, 'new.txt'), 'utf8')).toBe('untracked\n');
    expect(git(dir, 'config', '--local', 'user.name')).toBe('Test User');
    expect(git(dir, 'config', '--local', 'user.email')).toBe('test@example.com');
    expect(lines[0]).toMatch(/^Cloning repository/);
  });

  it('should use the identity it is given and start from a --branch snapshot', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, 'branch', 'base');
    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: 'base' });
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({
      source: { kind: 'local', repoPath: repo, ref: snapshot.ref, commit: snapshot.commit },
      dir,
      branch: BRANCH,
      identity: { name: 'Agent', email: 'agent@example.com' },
    });

    expect(git(dir, 'config', '--local', 'user.name')).toBe('Agent');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(snapshot.commit);
  });

  it('should clone a remote source and fetch the snapshot ref it does not clone', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    await writeFile(join(repo, 'a.txt'), 'dirty\n');
    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
    const remote = join(await tempDir(), 'remote.git');
    git(repo, 'clone', '--quiet', '--bare', repo, remote);
    git(repo, 'push', '--quiet', remote, `${snapshot.ref}:${snapshot.ref}`);
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({ source: { kind: 'remote', url: `file://${remote}`, ref: snapshot.ref, commit: snapshot.commit }, dir, branch: BRANCH });

    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('dirty\n');
    expect(git(dir, 'symbolic-ref', '--short', 'HEAD')).toBe(BRANCH);
  });

  it('should check out submodules at their recorded commits from the local origin, without network', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib v1\n' });
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    // An unreachable URL proves the workspace never goes to the submodule's remote.
    git(repo, 'config', '-f', '.gitmodules', 'submodule.libs/sub.url', 'https://invalid.example/sub.git');
    git(repo, 'add', '.gitmodules');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    const recorded = git(repo, 'rev-parse', 'HEAD:libs/sub');
    await rm(sub, { recursive: true, force: true });
    const source = await localSource(repo);
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({ source, dir, branch: BRANCH });

    expect(readFileSync(join(dir, 'libs/sub/lib.txt'), 'utf8')).toBe('lib v1\n');
    expect(git(join(dir, 'libs/sub'), 'rev-parse', 'HEAD')).toBe(recorded);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(dir, '.gitmodules'), 'utf8')).toContain('https://invalid.example/sub.git');
  });

  it('should copy LFS objects from the origin so checkout smudges real content offline', async () => {
    const repo = await makeRepo({}, { commit: false });
    git(repo, 'lfs', 'install', '--local');
    git(repo, 'lfs', 'track', '*.bin');
    await writeFiles(repo, { 'a.bin': 'committed binary\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '--quiet', '-m', 'lfs');
    await writeFiles(repo, { 'b.bin': 'untracked binary\n' });
    const source = await localSource(repo);
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({ source, dir, branch: BRANCH });

    expect(git(repo, 'cat-file', '-p', `${source.commit}:b.bin`)).toMatch(/^version https:\/\/git-lfs/);
    expect(readFileSync(join(dir, 'a.bin'), 'utf8')).toBe('committed binary\n');
    expect(readFileSync(join(dir, 'b.bin'), 'utf8')).toBe('untracked binary\n');
    const oid = /oid sha256:([0-9a-f]{64})/.exec(git(repo, 'cat-file', '-p', `${source.commit}:b.bin`))?.[1] ?? '';
    const objectPath = (root: string) => join(root, '.git/lfs/objects', oid.slice(0, 2), oid.slice(2, 4), oid);
    // A copy, never a hard link: the sandbox must not be able to rewrite the origin's object.
    expect(statSync(objectPath(dir)).ino).not.toBe(statSync(objectPath(repo)).ino);
    expect(git(dir, 'config', '--local', 'filter.lfs.process')).toBe('git-lfs filter-process');
  });

  it.runIf(process.getuid?.() === 0)('should work for a worker whose uid does not own the origin', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    const source = await localSource(repo);
    execFileSync('chown', ['-R', '4242:4242', repo, sub]);
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({ source, dir, branch: BRANCH });

    expect(readFileSync(join(dir, 'libs/sub/lib.txt'), 'utf8')).toBe('lib\n');
  });

  it('should refuse a source ref that git would read as an option, without running anything', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const marker = join(await tempDir(), 'marker');
    // An unknown commit makes prepareWorkspace fetch the ref: unguarded, git reads it as --upload-pack.
    const source: TaskSource = { kind: 'local', repoPath: repo, ref: `--upload-pack=touch ${marker}`, commit: 'b'.repeat(40) };
    const dir = join(await tempDir(), 'repo');

    const error = await prepareWorkspace({ source, dir, branch: BRANCH }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expect(existsSync(marker)).toBe(false);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('source.ref must be refs/tsk/snapshots/<task id>');
    expect(existsSync(dir)).toBe(false);
  });

  it('should refuse a result branch git would not accept or would read as an option', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const source = await localSource(repo);
    const dir = join(await tempDir(), 'repo');

    for (const branch of ['--orphan=x', 'a..b', 'HEAD', 'a b']) {
      await expect(prepareWorkspace({ source, dir, branch })).rejects.toThrow(/invalid result branch/);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
