import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteRemoteTaskRefs, fetchResult, pushSnapshot, RemoteMirror } from './remote.js';

/* The shared remote's git operations against real repositories: a bare "team server" and a user's clone. */

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

let root: string;
let remote: string;
let repo: string;

function commitIn(dir: string, file: string, text: string): string {
  writeFileSync(join(dir, file), text);
  git(dir, 'add', file);
  git(dir, '-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', file);
  return git(dir, 'rev-parse', 'HEAD');
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tsk-remote-git-'));
  remote = join(root, 'team.git');
  repo = join(root, 'laptop');
  git(root, 'init', '-q', '--bare', remote);
  git(root, 'init', '-q', '-b', 'main', repo);
  commitIn(repo, 'README.md', 'hello\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the shared remote (real git)', () => {
  it('pushes a snapshot ref without running the user’s pre-push hook', async () => {
    const marker = join(root, 'hook-ran');
    writeFileSync(join(repo, '.git', 'hooks', 'pre-push'), `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(join(repo, '.git', 'hooks', 'pre-push'), 0o755);
    git(repo, 'update-ref', 'refs/tsk/snapshots/AbC123_x', 'HEAD');
    await pushSnapshot(repo, remote, 'AbC123_x');
    expect(git(remote, 'rev-parse', 'refs/tsk/snapshots/AbC123_x')).toBe(git(repo, 'rev-parse', 'HEAD'));
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses URLs that would run a command before git sees them', async () => {
    const marker = join(root, 'pwned');
    await expect(pushSnapshot(repo, `ext::sh -c touch% ${marker}`, 'AbC123_x')).rejects.toThrow(/remote-helper/);
    expect(() => new RemoteMirror(root, '--upload-pack=touch /tmp/x')).toThrow(/starts with "-"/);
    expect(existsSync(marker)).toBe(false);
  });

  it('fetches a result only when the remote holds the commit its worker signed, never over a branch', async () => {
    const signed = commitIn(repo, 'result.txt', 'the agent’s work\n');
    git(repo, 'push', '-q', remote, `${signed}:refs/tsk/results/AbC123_x`);
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    // Someone with push access moves the result ref to a commit of their own.
    const planted = commitIn(repo, 'planted.txt', 'not the agent’s\n');
    git(repo, 'push', '-q', '-f', remote, `${planted}:refs/tsk/results/AbC123_x`);
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    git(repo, 'reflog', 'expire', '--expire=now', '--all');
    git(repo, 'gc', '-q', '--prune=now');

    const options = { repoPath: repo, url: remote, taskId: 'AbC123_x', commit: signed, branch: 'tsk/feat/x/AbC123_x' };
    await expect(fetchResult(options)).rejects.toThrow(/not the result its worker signed/);
    expect(() => git(repo, 'rev-parse', '--verify', 'tsk/feat/x/AbC123_x')).toThrow();
    expect(git(repo, 'for-each-ref', 'refs/tsk/fetched')).toBe('');

    git(remote, 'update-ref', 'refs/tsk/results/AbC123_x', signed);
    expect(await fetchResult(options)).toBe(true);
    expect(git(repo, 'rev-parse', 'tsk/feat/x/AbC123_x')).toBe(signed);
    expect(await fetchResult(options)).toBe(false);
    git(repo, 'branch', '-f', 'tsk/feat/y/AbC123_y', 'main');
    await expect(fetchResult({ ...options, branch: 'tsk/feat/y/AbC123_y' })).rejects.toThrow(/already exists at another commit/);
    expect(git(repo, 'rev-parse', 'tsk/feat/y/AbC123_y')).toBe(git(repo, 'rev-parse', 'main'));
  });

  it('mirrors only the refs a task needs, and says what the remote answered when it refuses a push', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'push', '-q', remote, 'HEAD:refs/tsk/snapshots/AbC123_x', 'HEAD:refs/heads/main');
    const mirror = new RemoteMirror(join(root, 'data'), remote);
    await mirror.fetch(['refs/tsk/snapshots/AbC123_x']);
    expect(git(mirror.dir, 'for-each-ref', '--format=%(refname)')).toBe('refs/tsk/snapshots/AbC123_x');
    await expect(mirror.fetch(['refs/tsk/snapshots/Gone_123'])).rejects.toThrow(/could not fetch refs\/tsk\/snapshots\/Gone_123/);

    writeFileSync(join(remote, 'hooks', 'pre-receive'), '#!/bin/sh\necho "quota exceeded for team" >&2\nexit 1\n');
    chmodSync(join(remote, 'hooks', 'pre-receive'), 0o755);
    await expect(mirror.push([{ commit: head, ref: 'refs/tsk/results/AbC123_x' }])).rejects.toThrow(/quota exceeded for team/);
  });

  it('makes one mirror when several workers sharing a data dir start on it at once', async () => {
    git(repo, 'push', '-q', remote, 'HEAD:refs/tsk/snapshots/AbC123_x');
    const data = join(root, 'shared-data');
    // Separate objects, like separate processes: the in-process memo cannot help them.
    const mirrors = Array.from({ length: 4 }, () => new RemoteMirror(data, remote));
    await Promise.all(mirrors.map((mirror) => (mirror as unknown as { create(): Promise<void> }).create()));
    await Promise.all(mirrors.map((mirror) => mirror.fetch(['refs/tsk/snapshots/AbC123_x'])));
    expect(readdirSync(join(data, 'mirrors'))).toHaveLength(1);
  });

  it('removes a task’s snapshot and result refs from the remote and nothing else', async () => {
    git(repo, 'push', '-q', remote, 'HEAD:refs/tsk/snapshots/AbC123_x', 'HEAD:refs/tsk/results/AbC123_x', 'HEAD:refs/tsk/snapshots/Other_12', 'HEAD:refs/heads/tsk/feat/x/AbC123_x');
    await deleteRemoteTaskRefs(repo, remote, 'AbC123_x');
    expect(git(remote, 'for-each-ref', '--format=%(refname)').split('\n').sort()).toEqual(['refs/heads/tsk/feat/x/AbC123_x', 'refs/tsk/snapshots/Other_12']);
    // Nothing left to delete is not an error.
    await deleteRemoteTaskRefs(repo, remote, 'AbC123_x');
  });
});
