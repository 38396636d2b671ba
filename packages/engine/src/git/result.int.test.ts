import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/input-error.js';
import { git, isolateGitConfig, makeRepo, repoState, tempDir, writeFiles, type FileTree } from '../test-utils/git-fixtures.js';
import { collectResult } from './result.js';
import { createSnapshot } from './snapshot.js';
import { prepareWorkspace } from './workspace.js';

const ID = 'Rslt_001';
const BRANCH = 'tsk/feat/thing/Rslt_001';

async function setup(files: FileTree = { 'a.txt': 'a\n' }, prepare?: (repo: string) => void) {
  const repo = await makeRepo({}, { commit: false });
  prepare?.(repo);
  await writeFiles(repo, files);
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  const snapshot = await createSnapshot({ repoPath: repo, taskId: ID, branch: undefined });
  const dir = join(await tempDir(), 'repo');
  const workspace = await prepareWorkspace({
    source: { kind: 'local', repoPath: repo, ref: snapshot.ref, commit: snapshot.commit },
    dir,
    branch: BRANCH,
  });
  const scratchDir = join(await tempDir(), 'collect');
  const options = { workspaceDir: dir, scratchDir, branch: BRANCH, baseCommit: workspace.baseCommit, taskName: 'thing', repoPath: repo };
  return { repo, dir, options };
}

function branchExists(repo: string, branch: string): boolean {
  return git(repo, 'for-each-ref', `refs/heads/${branch}`) !== '';
}

describe('collectResult', () => {
  beforeEach(isolateGitConfig);

  it('should report no changes and create no branch when the agent changed nothing', async () => {
    const { repo, options } = await setup();
    await expect(collectResult(options)).resolves.toEqual({ changed: false, commit: undefined });
    expect(branchExists(repo, BRANCH)).toBe(false);
  });

  it('should commit leftovers on top of agent commits and fetch the branch into the origin', async () => {
    const { repo, dir, options } = await setup();
    await writeFile(join(repo, 'user-edit.txt'), 'the user keeps working\n');
    git(repo, 'add', 'user-edit.txt');
    await writeFile(join(dir, 'agent.txt'), 'committed by the agent\n');
    git(dir, 'add', 'agent.txt');
    git(dir, 'commit', '--quiet', '-m', 'agent work');
    await writeFile(join(dir, 'leftover.txt'), 'left uncommitted\n');
    const before = repoState(repo);

    const agentCommit = git(dir, 'rev-parse', 'HEAD');
    const result = await collectResult(options);

    expect(result.changed).toBe(true);
    // The leftovers commit is made outside the workspace, on top of the agent's HEAD.
    expect(git(repo, 'rev-parse', `${result.commit}^`)).toBe(agentCommit);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(agentCommit);
    const after = repoState(repo);
    expect({ ...after, '<branches>': '' }).toEqual({ ...before, '<branches>': '' });
    expect(after['<branches>']).toBe(`${before['<branches>']}\nrefs/heads/${BRANCH} ${result.commit}`);
    expect(git(repo, 'rev-parse', `refs/heads/${BRANCH}`)).toBe(result.commit);
    expect(git(repo, 'log', '--format=%s', `${options.baseCommit}..${BRANCH}`).split('\n')).toEqual([
      'tsk automated changes for task: thing',
      'agent work',
    ]);
    expect(git(repo, 'show', `${BRANCH}:leftover.txt`)).toBe('left uncommitted');
    expect(git(repo, 'show', `${BRANCH}:agent.txt`)).toBe('committed by the agent');
  });

  it('should take HEAD even when the agent left it detached', async () => {
    const { repo, dir, options } = await setup();
    git(dir, 'switch', '--quiet', '--detach');
    await writeFile(join(dir, 'a.txt'), 'changed while detached\n');
    git(dir, 'commit', '--quiet', '-am', 'detached work');

    const result = await collectResult(options);

    expect(result.changed).toBe(true);
    expect(git(repo, 'show', `${BRANCH}:a.txt`)).toBe('changed while detached');
  });

  it('should refuse to overwrite an existing branch of the same name', async () => {
    const { repo, dir, options } = await setup();
    git(repo, 'branch', BRANCH);
    const existing = git(repo, 'rev-parse', BRANCH);
    await writeFile(join(dir, 'a.txt'), 'changed\n');

    const attempt = collectResult(options);

    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toThrow(`branch ${BRANCH} already exists in ${repo}`);
    expect(git(repo, 'rev-parse', BRANCH)).toBe(existing);
  });

  it('should record the git-town parent only when asked', async () => {
    const { repo, dir, options } = await setup();
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await collectResult({ ...options, gitTown: true, parentBranch: 'main' });
    expect(git(repo, 'config', `git-town-branch.${BRANCH}.parent`)).toBe('main');
  });

  it('should not record a git-town parent by default', async () => {
    const { repo, dir, options } = await setup();
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await collectResult({ ...options, parentBranch: 'main' });
    expect(() => git(repo, 'config', `git-town-branch.${BRANCH}.parent`)).toThrow();
  });

  it.runIf(process.getuid?.() === 0)('should collect from a workspace owned by another uid', async () => {
    const { repo, dir, options } = await setup();
    await writeFile(join(dir, 'a.txt'), 'changed by uid 4242\n');
    execFileSync('chown', ['-R', '4242:4242', dir]);

    const result = await collectResult(options);

    expect(result.changed).toBe(true);
    expect(git(repo, 'show', `${BRANCH}:a.txt`)).toBe('changed by uid 4242');
  });

  it('should bring LFS content back as pointers the origin can check out', async () => {
    const { repo, dir, options } = await setup({ 'a.bin': 'original binary\n' }, (r) => {
      git(r, 'lfs', 'install', '--local');
      git(r, 'lfs', 'track', '*.bin');
    });
    await writeFiles(dir, { 'a.bin': 'changed binary\n', 'c.bin': 'new binary from the agent\n' });
    const forged = 'ab'.repeat(32);
    await writeFiles(dir, { [`.git/lfs/objects/ab/ab/${forged}`]: 'content that does not hash to its name' });

    const result = await collectResult(options);

    expect(result.changed).toBe(true);
    expect(git(repo, 'cat-file', '-p', `${BRANCH}:c.bin`)).toMatch(/^version https:\/\/git-lfs/);
    const checkout = join(await tempDir(), 'check');
    git(repo, 'worktree', 'add', '--quiet', checkout, BRANCH);
    expect(readFileSync(join(checkout, 'c.bin'), 'utf8')).toBe('new binary from the agent\n');
    expect(readFileSync(join(checkout, 'a.bin'), 'utf8')).toBe('changed binary\n');
    expect(existsSync(join(repo, '.git/lfs/objects/ab/ab', forged))).toBe(false);
  });

  it('should not run hooks, fsmonitor or filter drivers the agent planted in the workspace', async () => {
    const { repo, dir, options } = await setup();
    const marker = join(await tempDir(), 'pwned');
    const payload = `touch ${marker}-$(basename "$0")`;
    for (const hook of ['pre-commit', 'post-commit', 'reference-transaction']) {
      await writeFile(join(dir, '.git/hooks', hook), `#!/bin/sh\n${payload}\n`, { mode: 0o755 });
    }
    await writeFile(join(dir, 'fsmonitor.sh'), `#!/bin/sh\n${payload}\nexit 1\n`, { mode: 0o755 });
    git(dir, 'config', 'core.fsmonitor', join(dir, 'fsmonitor.sh'));
    git(dir, 'config', 'filter.Evil.clean', `sh -c 'touch ${marker}-filter'; cat`);
    git(dir, 'config', 'filter.Evil.required', 'true');
    await writeFiles(dir, { '.gitattributes': '*.txt filter=Evil\n', 'a.txt': 'changed\n' });

    const result = await collectResult(options);

    expect(result.changed).toBe(true);
    expect(git(repo, 'show', `${BRANCH}:a.txt`)).toBe('changed');
    expect(existsSync(dirname(marker)) && readdirSync(dirname(marker))).toEqual([]);
  });

  it('should commit leftovers as the origin’s user, whatever identity the agent configured', async () => {
    const { repo, dir, options } = await setup();
    git(dir, 'config', 'user.name', 'Mallory');
    git(dir, 'config', 'user.email', 'mallory@evil.example');
    await writeFile(join(dir, 'a.txt'), 'changed\n');
    await collectResult(options);
    expect(git(repo, 'log', '-1', '--format=%an <%ae> / %cn <%ce>', BRANCH)).toBe('Test User <test@example.com> / Test User <test@example.com>');
  });

  it('should never run a filter the workspace config defines, however its name is spelt', async () => {
    const { repo, dir, options } = await setup();
    const marker = join(await tempDir(), 'pwned');
    // Names the old guard's parser missed: a tab, spaces, a dot, an upper-case letter.
    const names = ['evil\tx', 'sp ace', 'do.t', 'Case'];
    const config = names.map((name) => `[filter "${name}"]\n\tclean = sh -c 'touch ${marker}'; cat\n\trequired = true\n`).join('');
    await writeFile(join(dir, '.git/config'), `${readFileSync(join(dir, '.git/config'), 'utf8')}${config}`);
    await writeFiles(dir, { '.gitattributes': names.map((name, i) => `f${i}.txt filter=${name.replace(/[\t ]/g, '\\$&')}\n`).join(''), 'f0.txt': '0', 'f1.txt': '1', 'f2.txt': '2', 'f3.txt': '3' });

    const result = await collectResult(options);

    expect(result.changed).toBe(true);
    expect(git(repo, 'show', `${BRANCH}:f3.txt`)).toBe('3');
    expect(existsSync(marker)).toBe(false);
  });

  it('should refuse a symbolic link anywhere in the workspace’s .git and leave its target alone', async () => {
    const { repo, dir, options } = await setup();
    const victim = join(await tempDir(), 'victim.txt');
    await writeFile(victim, 'host file\n');
    await rm(join(dir, '.git/logs/HEAD'), { force: true });
    execFileSync('ln', ['-s', victim, join(dir, '.git/logs/HEAD')]);
    await writeFile(join(dir, 'a.txt'), 'changed\n');

    await expect(collectResult(options)).rejects.toThrow(/logs\/HEAD is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('host file\n');
    expect(branchExists(repo, BRANCH)).toBe(false);
  });

  it('should refuse alternates and FIFOs in the workspace’s .git (no borrowed objects, no hang)', async () => {
    const alternate = await setup();
    await writeFile(join(alternate.dir, '.git/objects/info/alternates'), `${join(alternate.repo, '.git/objects')}\n`);
    await expect(collectResult(alternate.options)).rejects.toThrow(/objects\/info\/alternates redirects git/);

    const fifo = await setup();
    execFileSync('mkfifo', [join(fifo.dir, '.git/COMMIT_EDITMSG')]);
    await expect(collectResult(fifo.options)).rejects.toThrow(/COMMIT_EDITMSG is not a regular file/);
  });

  it('should refuse a workspace whose .git was replaced by a pointer elsewhere', async () => {
    const { repo, dir, options } = await setup();
    await rm(join(dir, '.git'), { recursive: true, force: true });
    await writeFile(join(dir, '.git'), `gitdir: ${join(repo, '.git')}\n`);
    await expect(collectResult(options)).rejects.toThrow(/is not a directory/);
    expect(branchExists(repo, BRANCH)).toBe(false);
  });
});

describe('collectResult: a follow-up fast-forwards its earlier task’s branch', () => {
  beforeEach(isolateGitConfig);
  const EARLIER = 'tsk/feat/first/Earl_001';

  /** The earlier task's branch at the follow-up's start, and an agent commit in the workspace. */
  async function followUp() {
    const context = await setup();
    git(context.repo, 'branch', EARLIER, context.options.baseCommit);
    await writeFile(join(context.dir, 'a.txt'), 'follow-up\n');
    git(context.dir, 'commit', '--quiet', '-am', 'follow-up work');
    const fastForward = { taskId: 'Earl_001', branch: EARLIER, from: context.options.baseCommit };
    return { ...context, fastForward };
  }

  it('should move the earlier branch forward and create no branch of its own', async () => {
    const { repo, options, fastForward } = await followUp();
    const result = await collectResult({ ...options, fastForward });
    expect(result).toEqual({ changed: true, commit: git(repo, 'rev-parse', EARLIER), branch: EARLIER });
    expect(git(repo, 'log', '--format=%s', EARLIER).split('\n')).toEqual(['follow-up work', 'initial']);
    expect(branchExists(repo, BRANCH)).toBe(false);
  });

  it('should leave a branch that moved alone and put the result on its own branch, saying why', async () => {
    const { repo, options, fastForward } = await followUp();
    git(repo, 'switch', '--quiet', EARLIER);
    await writeFile(join(repo, 'b.txt'), 'the user reviewed\n');
    git(repo, 'add', 'b.txt');
    git(repo, 'commit', '--quiet', '-m', 'review fix');
    const moved = git(repo, 'rev-parse', EARLIER);
    const result = await collectResult({ ...options, fastForward });
    expect(result.branch).toBe(BRANCH);
    expect(result.note).toBe(`${EARLIER} moved since task Earl_001 ended: result on its own branch ${BRANCH}`);
    expect(git(repo, 'rev-parse', EARLIER)).toBe(moved);
    expect(git(repo, 'rev-parse', BRANCH)).toBe(result.commit);
  });

  it('should not fast-forward to a history the agent rewrote, nor move a branch that is not tsk’s', async () => {
    const rewritten = await followUp();
    git(rewritten.dir, 'checkout', '--quiet', '--orphan', 'other');
    git(rewritten.dir, 'commit', '--quiet', '-m', 'unrelated history');
    const result = await collectResult({ ...rewritten.options, fastForward: rewritten.fastForward });
    expect(result.note).toMatch(/^the result does not build on task Earl_001's result [0-9a-f]{12} \(history was rewritten\): result on its own branch/);
    expect(git(rewritten.repo, 'rev-parse', EARLIER)).toBe(rewritten.options.baseCommit);

    const main = await followUp();
    const mainBefore = git(main.repo, 'rev-parse', 'main');
    const refused = await collectResult({ ...main.options, fastForward: { ...main.fastForward, branch: 'main', from: mainBefore } });
    expect(refused.note).toBe(`main is not a tsk result branch: result on its own branch ${BRANCH}`);
    expect(git(main.repo, 'rev-parse', 'main')).toBe(mainBefore);
  });
});
