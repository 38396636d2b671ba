import { describe, expect, it } from 'vitest';
import {
  branchNameProblem,
  isCommitHash,
  isSnapshotRef,
  remoteUrlProblem,
  sourceRefProblem,
  submodulePathProblem,
  taskSourceProblems,
} from './git-values.js';

const SHA1 = 'a'.repeat(40);
const SHA256 = '0123456789abcdef'.repeat(4);

describe('isCommitHash', () => {
  it('should accept full SHA-1 and SHA-256 ids only', () => {
    expect(isCommitHash(SHA1)).toBe(true);
    expect(isCommitHash(SHA256)).toBe(true);
    for (const value of ['a'.repeat(39), 'a'.repeat(41), 'A'.repeat(40), `${'a'.repeat(39)}g`, 'HEAD', `--${'a'.repeat(38)}`, 42, undefined]) {
      expect(isCommitHash(value), String(value)).toBe(false);
    }
  });
});

describe('isSnapshotRef', () => {
  it('should accept exactly refs/tsk/snapshots/<task id>', () => {
    expect(isSnapshotRef('refs/tsk/snapshots/AbC123_x')).toBe(true);
    for (const value of ['refs/tsk/snapshots/AbC123_', 'refs/tsk/snapshots/AbC123_xy', 'refs/tsk/snapshots/AbC-123x', 'refs/tsk/snapshots/../heads', 'refs/heads/main', '--upload-pack=x']) {
      expect(isSnapshotRef(value), value).toBe(false);
    }
  });
});

describe('branchNameProblem', () => {
  const valid = ['main', 'tsk/feat/dark-mode/AbC123_x', 'feature/a.b', 'x@y', 'ünïcode', 'a-', 'v1.2'];
  const invalid = [
    '', '-x', '--upload-pack=touch x', 'HEAD', '@', 'a..b', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', 'a\tb', 'a\nb',
    'a\u007fb', 'a@{1}', '/a', 'a/', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', 'a/b.lock/c',
  ];

  it('should accept what git accepts and refuse what git refuses', () => {
    for (const name of valid) expect(branchNameProblem(name), name).toBeUndefined();
    for (const name of invalid) expect(branchNameProblem(name), JSON.stringify(name)).toBeDefined();
  });
});

describe('sourceRefProblem', () => {
  it('should allow only snapshot refs for a local source and also result refs and branches for a remote one', () => {
    expect(sourceRefProblem('refs/tsk/snapshots/AbC123_x', 'local')).toBeUndefined();
    expect(sourceRefProblem('refs/tsk/results/AbC123_x', 'remote')).toBeUndefined();
    expect(sourceRefProblem('refs/tsk/results/AbC123_x', 'local')).toMatch(/must be/);
    expect(sourceRefProblem('refs/tsk/results/../../x', 'remote')).toMatch(/must be/);
    expect(sourceRefProblem('refs/heads/main', 'local')).toMatch(/must be refs\/tsk\/snapshots/);
    expect(sourceRefProblem('refs/heads/tsk/feat/x/AbC123_x', 'remote')).toBeUndefined();
    expect(sourceRefProblem('refs/heads/-x', 'remote')).toMatch(/starts with "-"/);
    expect(sourceRefProblem('refs/heads/a:refs/heads/b', 'remote')).toMatch(/":"/);
    expect(sourceRefProblem('--upload-pack=touch /tmp/x', 'remote')).toMatch(/must be/);
    expect(sourceRefProblem('main', 'remote')).toMatch(/must be/);
  });
});

describe('remoteUrlProblem', () => {
  it('should accept network URLs, scp-like addresses and absolute paths', () => {
    for (const url of ['https://example.com/r.git', 'ssh://git@example.com/r.git', 'git://example.com/r', 'file:///srv/r.git', 'git@example.com:org/r.git', 'example.com:r.git', '/srv/git/r.git']) {
      expect(remoteUrlProblem(url), url).toBeUndefined();
    }
  });

  it('should refuse transports that run commands, options, relative paths and unknown schemes', () => {
    expect(remoteUrlProblem('ext::sh -c touch% /tmp/x')).toMatch(/remote-helper/);
    expect(remoteUrlProblem('fd::3')).toMatch(/remote-helper/);
    expect(remoteUrlProblem('--upload-pack=touch x')).toMatch(/starts with "-"/);
    expect(remoteUrlProblem('-oProxyCommand=x:y')).toMatch(/starts with "-"/);
    expect(remoteUrlProblem('git@-oProxyCommand=x:y')).toMatch(/host starting with "-"/);
    expect(remoteUrlProblem('../other.git')).toMatch(/relative/);
    expect(remoteUrlProblem('gopher://x/y')).toMatch(/unsupported scheme/);
    expect(remoteUrlProblem('https://x/\ny')).toMatch(/control/);
    expect(remoteUrlProblem('')).toBe('is empty');
    // A token would travel through the queue to every worker.
    expect(remoteUrlProblem('https://bob:ghp_x@example.com/r.git')).toMatch(/holds credentials/);
    expect(remoteUrlProblem('http://ghp_x@example.com/r.git')).toMatch(/holds credentials/);
    expect(remoteUrlProblem('https://example.com/a@b/r.git')).toBeUndefined();
  });
});

describe('submodulePathProblem', () => {
  it('should accept relative paths and refuse anything that climbs out or reads as an option', () => {
    for (const value of ['libs/sub', 'sub', 'a.b/c-d', 'x..y']) expect(submodulePathProblem(value), value).toBeUndefined();
    expect(submodulePathProblem('../secret')).toMatch(/"\.\."/);
    expect(submodulePathProblem('a/../../b')).toMatch(/"\.\."/);
    expect(submodulePathProblem('a\\..\\b')).toMatch(/"\.\."/);
    expect(submodulePathProblem('/etc')).toBe('is absolute');
    expect(submodulePathProblem('-x')).toMatch(/"-"/);
    expect(submodulePathProblem('.git')).toMatch(/"\.git"/);
    expect(submodulePathProblem('a/.GIT/b')).toMatch(/"\.git"/);
    expect(submodulePathProblem('a//b')).toMatch(/empty/);
    expect(submodulePathProblem('a/./b')).toMatch(/empty or "\."/);
    expect(submodulePathProblem('a\nb')).toMatch(/control/);
    expect(submodulePathProblem('')).toBe('is empty');
  });
});

describe('taskSourceProblems', () => {
  it('should accept the sources tsk itself makes', () => {
    expect(taskSourceProblems({ kind: 'local', repoPath: '/home/u/repo', ref: 'refs/tsk/snapshots/AbC123_x', commit: SHA1 })).toEqual([]);
    expect(taskSourceProblems({ kind: 'remote', url: 'https://example.com/r.git', ref: 'refs/heads/tsk/feat/x/AbC123_x', commit: SHA256 })).toEqual([]);
  });

  it('should name every bad field', () => {
    expect(taskSourceProblems({ kind: 'local', repoPath: 'repo', ref: '--upload-pack=touch x', commit: 'HEAD' })).toEqual([
      'source.commit must be a full commit hash',
      'source.ref must be refs/tsk/snapshots/<task id>',
      'source.repoPath must be an absolute path',
    ]);
    expect(taskSourceProblems({ kind: 'remote', url: 'ext::sh -c x', ref: 'refs/tsk/snapshots/AbC123_x', commit: SHA1 })).toEqual([
      'source.url names a remote-helper transport (<transport>::…)',
    ]);
  });
});
