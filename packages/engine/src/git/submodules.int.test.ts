import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskSource } from '../model/task-spec.js';
import { git, isolateGitConfig, makeRepo, sharedFiles, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { createSnapshot } from './snapshot.js';
import { prepareWorkspace } from './workspace.js';

const ID = 'Subm_001';
const BRANCH = 'tsk/feat/subs/Subm_001';

/**
 * Put a commit on branch `agent` of `repo` the way a parent task's agent would: made in a clone, with
 * `gitmodules` as its `.gitmodules` and a gitlink for each `links` entry, and fetched back without
 * touching the origin's work tree (whose own `.gitmodules` stays the user's).
 */
async function agentCommit(repo: string, gitmodules: string, links: Record<string, string>): Promise<TaskSource> {
  const clone = join(await tempDir(), 'agent');
  git(repo, 'clone', '--quiet', '--no-hardlinks', repo, clone);
  await writeFiles(clone, { '.gitmodules': gitmodules });
  git(clone, 'add', '.gitmodules');
  for (const [path, commit] of Object.entries(links)) git(clone, 'update-index', '--add', '--cacheinfo', `160000,${commit},${path}`);
  git(clone, 'commit', '--quiet', '-m', 'agent: add submodules');
  git(repo, 'fetch', '--quiet', clone, 'HEAD:refs/heads/agent');
  const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: 'agent' });
  return { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit };
}

function hasObject(dir: string, commit: string): boolean {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: dir, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function collect(): { warnings: string[]; log: { write: (source: string, line: string) => void } } {
  const warnings: string[] = [];
  return { warnings, log: { write: (source, line) => source === 'warn' && warnings.push(line) } };
}

describe('initSubmodules with a hostile .gitmodules (via prepareWorkspace)', () => {
  beforeEach(isolateGitConfig);

  it('should not clone a local repository the origin does not have as a submodule', async () => {
    const secret = await makeRepo({ 'secret.txt': 'top secret\n' });
    const secretHead = git(secret, 'rev-parse', 'HEAD');
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    // Both an absolute path and a URL relative to the workspace's origin remote (the user's repository).
    const gitmodules = [
      '[submodule "vault"]',
      '\tpath = vault',
      `\turl = ${secret}`,
      '[submodule "vault2"]',
      '\tpath = vault2',
      `\turl = ../${basename(secret)}`,
    ].join('\n');
    const source = await agentCommit(repo, `${gitmodules}\n`, { vault: secretHead, vault2: secretHead });
    const dir = join(await tempDir(), 'repo');
    const { warnings, log } = collect();

    const workspace = await prepareWorkspace({ source, dir, branch: BRANCH, log });

    expect(workspace.baseCommit).toBe(source.commit);
    expect(existsSync(join(dir, 'vault/secret.txt'))).toBe(false);
    expect(existsSync(join(dir, 'vault2/secret.txt'))).toBe(false);
    expect(existsSync(join(dir, '.git/modules'))).toBe(false);
    expect(hasObject(dir, secretHead)).toBe(false);
    expect(readFileSync(join(dir, '.git/config'), 'utf8')).not.toContain('vault');
    expect(warnings).toEqual([
      expect.stringMatching(/^Submodule "vault" \(vault\) skipped: the origin has no such submodule/),
      expect.stringMatching(/^Submodule "vault2" \(vault2\) skipped: the origin has no such submodule/),
    ]);
  });

  it('should skip names and paths that climb out, and still check out the good submodule', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    const recorded = git(repo, 'rev-parse', 'HEAD:libs/sub');
    const good = readFileSync(join(repo, '.gitmodules'), 'utf8');
    const hostile = [
      // Names the origin's absorbed directory of libs/sub by climbing out of .git/modules/<name>.
      '[submodule "x/../libs/sub"]',
      '\tpath = esc1',
      `\turl = ${sub}`,
      '[submodule "esc2"]',
      '\tpath = ../outside',
      `\turl = ${sub}`,
      '[submodule "-esc3"]',
      '\tpath = esc3',
      `\turl = ${sub}`,
      '[submodule "esc4"]',
      '\tpath = .git/modules/x',
      `\turl = ${sub}`,
    ].join('\n');
    const source = await agentCommit(repo, `${good}${hostile}\n`, { esc1: recorded, esc3: recorded });
    const dir = join(await tempDir(), 'repo');
    const { warnings, log } = collect();

    await prepareWorkspace({ source, dir, branch: BRANCH, log });

    expect(readFileSync(join(dir, 'libs/sub/lib.txt'), 'utf8')).toBe('lib\n');
    expect(git(join(dir, 'libs/sub'), 'rev-parse', 'HEAD')).toBe(recorded);
    expect(readdirSync(join(dir, 'esc1'))).toEqual([]);
    expect(readdirSync(join(dir, 'esc3'))).toEqual([]);
    expect(warnings).toEqual([
      'Submodule "x/../libs/sub" (esc1) skipped: its name has a ".." component',
      'Submodule "esc2" (../outside) skipped: its path has a ".." component',
      'Submodule "-esc3" (esc3) skipped: its name starts with "-"',
      'Submodule "esc4" (.git/modules/x) skipped: its path has a ".git" component',
    ]);
  });

  it('should fall back to the URL the origin knows, cloned over file:// so nothing is hard-linked', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    const subHead = git(sub, 'rev-parse', 'HEAD');
    // The user declared the submodule but never checked it out: no .git/modules, no checkout.
    const repo = await makeRepo({ '.gitmodules': `[submodule "libs/sub"]\n\tpath = libs/sub\n\turl = ${sub}\n` });
    git(repo, 'update-index', '--add', '--cacheinfo', `160000,${subHead},libs/sub`);
    git(repo, 'commit', '--quiet', '-m', 'declare submodule');
    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: 'main' });
    const dir = join(await tempDir(), 'repo');
    const { warnings, log } = collect();

    await prepareWorkspace({ source: { kind: 'local', repoPath: repo, ref: snapshot.ref, commit: snapshot.commit }, dir, branch: BRANCH, log });

    expect(warnings).toEqual([]);
    expect(readFileSync(join(dir, 'libs/sub/lib.txt'), 'utf8')).toBe('lib\n');
    expect(git(join(dir, 'libs/sub'), 'rev-parse', 'HEAD')).toBe(subHead);
    expect(sharedFiles(join(dir, '.git'), join(sub, '.git'))).toEqual([]);
  });

  it('should recurse with the same rules, taking nested submodules from the origin’s own copies', async () => {
    const deep = await makeRepo({ 'deep.txt': 'deep\n' });
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    git(sub, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', deep, 'vendor/deep');
    git(sub, 'commit', '--quiet', '-m', 'nested');
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'update', '--quiet', '--init', '--recursive');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    // Only the origin's own copies remain (.git/modules/libs/sub and .git/modules/libs/sub/modules/vendor/deep).
    await rm(sub, { recursive: true, force: true });
    await rm(deep, { recursive: true, force: true });
    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
    const dir = join(await tempDir(), 'repo');
    const { warnings, log } = collect();

    await prepareWorkspace({ source: { kind: 'local', repoPath: repo, ref: snapshot.ref, commit: snapshot.commit }, dir, branch: BRANCH, log });

    expect(warnings).toEqual([]);
    expect(readFileSync(join(dir, 'libs/sub/vendor/deep/deep.txt'), 'utf8')).toBe('deep\n');
    expect(sharedFiles(join(dir, '.git'), join(repo, '.git'))).toEqual([]);
  });

  it('should clone a submodule whose repository lives in the origin’s checkout (not absorbed)', async () => {
    const sub = await makeRepo({ 'lib.txt': 'lib\n' });
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    // `submodule add` of a repository already at the path keeps its own .git directory there.
    git(repo, 'clone', '--quiet', sub, 'libs/sub');
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '--quiet', sub, 'libs/sub');
    git(repo, 'commit', '--quiet', '-m', 'add submodule');
    expect(lstatSync(join(repo, 'libs/sub/.git')).isDirectory()).toBe(true);
    await rm(sub, { recursive: true, force: true });
    const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
    const dir = join(await tempDir(), 'repo');

    await prepareWorkspace({ source: { kind: 'local', repoPath: repo, ref: snapshot.ref, commit: snapshot.commit }, dir, branch: BRANCH });

    expect(readFileSync(join(dir, 'libs/sub/lib.txt'), 'utf8')).toBe('lib\n');
    expect(sharedFiles(join(dir, '.git'), join(repo, '.git'), join(repo, 'libs/sub/.git'))).toEqual([]);
  });
});
