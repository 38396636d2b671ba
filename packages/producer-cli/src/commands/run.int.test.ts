import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, repoState } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, startTsk, type TskHome } from '../test-utils/run-tsk.js';

function containersOf(taskId: string): string {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=tsk.task=${taskId}`], { encoding: 'utf8' }).trim();
}

/** A repository as users have them: committed files, staged and unstaged edits, untracked and ignored files. */
function makeUserRepo(root: string): string {
  const repo = join(root, 'My Project');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.name', 'Test User');
  git(repo, 'config', 'user.email', 'test@example.com');
  writeFileSync(join(repo, '.gitignore'), '.env\nnode_modules/\n');
  writeFileSync(join(repo, 'README.md'), '# project\n');
  writeFileSync(join(repo, 'staged.txt'), 'v1\n');
  writeFileSync(join(repo, 'removed.txt'), 'soon gone\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  git(repo, 'branch', 'other');
  writeFileSync(join(repo, 'README.md'), '# project\n\nuncommitted edit\n');
  writeFileSync(join(repo, 'staged.txt'), 'v2 staged\n');
  git(repo, 'add', 'staged.txt');
  rmSync(join(repo, 'removed.txt'));
  writeFileSync(join(repo, 'untracked.txt'), 'new file\n');
  writeFileSync(join(repo, '.env'), 'SECRET=hunter2\n');
  mkdirSync(join(repo, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
  return repo;
}

interface TaskJson {
  id: string;
  status: string;
  branch: string | null;
  error: string | null;
  agent: string;
  name: string;
  type: string;
}

describe('tsk run (real Docker, real git)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-run-test-'));
    repo = makeUserRepo(root);
  });

  afterAll(async () => {
    await home.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  const run = (args: string[]) => runTsk(['run', '--repo', repo, '--json', ...args], { env: home.env });

  it('returns COMPLETE and a branch with the snapshot, the agent commit and its leftovers, leaving the user repo untouched', async () => {
    const before = repoState(repo);
    const script = [
      'test ! -e .env && test ! -e node_modules',
      'id -u > agent-uid.txt',
      'echo "agent work" > agent.txt',
      'git add agent.txt agent-uid.txt && git commit -q -m "agent: add agent.txt"',
      'echo leftover > leftover.txt',
    ].join('\n');
    const result = await run(['--agent', 'script', '-t', 'generic', '-n', 'x', '-p', script]);
    expect(result.exitCode, result.stderr).toBe(0);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('COMPLETE');
    expect(task.branch).toBe(`tsk/generic/x/${task.id}`);
    expect(task.id).toMatch(/^[A-Za-z0-9_]{8}$/);

    const branch = task.branch!;
    const files = git(repo, 'ls-tree', '-r', '--name-only', branch).split('\n');
    expect(files).toEqual(expect.arrayContaining(['README.md', 'staged.txt', 'untracked.txt', 'agent.txt', 'leftover.txt', '.gitignore']));
    expect(files).not.toContain('removed.txt');
    expect(files).not.toContain('.env');
    expect(files.some((f) => f.startsWith('node_modules'))).toBe(false);
    expect(git(repo, 'show', `${branch}:README.md`)).toContain('uncommitted edit');
    expect(git(repo, 'show', `${branch}:staged.txt`)).toBe('v2 staged');
    const uid = Number(git(repo, 'show', `${branch}:agent-uid.txt`));
    expect(uid).toBeGreaterThan(0);
    const subjects = git(repo, 'log', '--format=%s', `main..${branch}`).split('\n');
    expect(subjects[0]).toBe('tsk automated changes for task: x');
    expect(subjects[1]).toBe('agent: add agent.txt');

    expect(repoState(repo)).toEqual(before);
    expect(git(repo, 'for-each-ref', 'refs/tsk/')).toBe('');
    expect(containersOf(task.id)).toBe('');
  });

  it('reuses the image on a second run and reports "No changes" without a branch when nothing changed', async () => {
    const result = await run(['--agent', 'no-op', '-n', 'nothing', '-p', 'look, do not touch']);
    expect(result.exitCode, result.stderr).toBe(0);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('COMPLETE');
    expect(task.branch).toBeNull();
    expect(result.stderr).toContain('No changes');
    expect(result.stderr).toContain('look, do not touch');
    expect(git(repo, 'branch', '--list', 'tsk/generic/nothing/*')).toBe('');

    const script = await run(['--agent', 'script', '-n', 'again', '-p', 'true']);
    expect(script.stderr).toMatch(/Using image tsk\//);
    expect(script.stderr).not.toMatch(/Built image/);
  });

  it('reports FAILED with the exit code when the script fails, and leaves no container', async () => {
    const result = await run(['--agent', 'script', '-n', 'bad', '-p', 'echo trying\nexit 3']);
    expect(result.exitCode).toBe(1);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('FAILED');
    expect(task.error).toContain('exited with code 3');
    expect(task.branch).toBeNull();
    expect(git(repo, 'branch', '--list', 'tsk/generic/bad/*')).toBe('');
    expect(containersOf(task.id)).toBe('');
    expect(workspaceVolumesOf(task.id)).toBe('');
  });

  it('cancels on Ctrl+C: CANCELLED, container gone', async () => {
    const tsk = startTsk(['run', '--repo', repo, '--json', '--agent', 'script', '-n', 'slow', '-p', 'echo AGENT-STARTED\nsleep 300'], {
      env: home.env,
    });
    await tsk.waitFor('AGENT-STARTED');
    tsk.child.kill('SIGINT');
    const result = await tsk.done;
    expect(result.exitCode).toBe(130);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('CANCELLED');
    expect(containersOf(task.id)).toBe('');
    // Its copy-on-write workspace went with it: the volume, and the layer in the task's folder.
    expect(workspaceVolumesOf(task.id)).toBe('');
    expect(existsSync(join(home.env.TSK_DATA_HOME!, 'tsk', 'tasks', task.id))).toBe(false);
    expect(git(repo, 'branch', '--list', 'tsk/generic/slow/*')).toBe('');
  });

  it('cancels on SIGTERM when whoever read its output is gone (closed terminal, killed parent): container gone', async () => {
    const tsk = startTsk(['run', '--repo', repo, '--agent', 'script', '-n', 'orphan', '-p', 'echo AGENT-STARTED\nsleep 300'], { env: home.env });
    await tsk.waitFor('AGENT-STARTED');
    const id = execFileSync('docker', ['ps', '--filter', 'label=tsk.task', '--filter', 'name=^tsk-', '--format', '{{.Label "tsk.task"}}'], { encoding: 'utf8' }).trim();
    expect(id).toMatch(/^[A-Za-z0-9_]{8}$/);
    // Nobody reads its output any more: every write now fails with EPIPE.
    tsk.child.stdout?.destroy();
    tsk.child.stderr?.destroy();
    tsk.child.kill('SIGTERM');
    await tsk.done;
    expect(containersOf(id)).toBe('');
  });

  it('works on a repository with a submodule: the sandbox sees the submodule, the branch keeps the gitlink', async () => {
    const lib = join(root, 'lib');
    mkdirSync(lib);
    git(lib, 'init', '-q', '-b', 'main');
    git(lib, 'config', 'user.name', 'Lib');
    git(lib, 'config', 'user.email', 'lib@example.com');
    writeFileSync(join(lib, 'lib.txt'), 'library v1\n');
    git(lib, 'add', '-A');
    git(lib, 'commit', '-q', '-m', 'lib');
    const app = join(root, 'app');
    mkdirSync(app);
    git(app, 'init', '-q', '-b', 'main');
    git(app, 'config', 'user.name', 'App');
    git(app, 'config', 'user.email', 'app@example.com');
    writeFileSync(join(app, 'app.txt'), 'app\n');
    git(app, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'vendor/lib');
    git(app, 'add', '-A');
    git(app, 'commit', '-q', '-m', 'app with submodule');
    const before = repoState(app);

    const result = await runTsk(
      ['run', '--repo', app, '--json', '--agent', 'script', '-n', 'sub', '-p', 'cat vendor/lib/lib.txt > seen.txt'],
      { env: home.env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('COMPLETE');
    expect(git(app, 'show', `${task.branch}:seen.txt`)).toBe('library v1');
    const libHead = git(lib, 'rev-parse', 'HEAD');
    expect(git(app, 'ls-tree', task.branch!, 'vendor/lib')).toContain(`160000 commit ${libHead}`);
    expect(repoState(app)).toEqual(before);
  });

  it('fails with one clear line and no stack trace on bad input', async () => {
    const notRepo = mkdtempSync(join(tmpdir(), 'tsk-not-a-repo-'));
    try {
      const result = await runTsk(['run', '--repo', notRepo, '--agent', 'script', '-p', 'true'], { env: home.env });
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/^Error: .*git repository/i);
    } finally {
      rmSync(notRepo, { recursive: true, force: true });
    }
    const unknownAgent = await runTsk(['run', '--repo', repo, '--agent', 'gpt-9', '-p', 'x'], { env: home.env });
    expect(unknownAgent.exitCode).toBe(1);
    expect(unknownAgent.stderr).toMatch(/^Error: Unknown agent "gpt-9"/);
  });
});

/** The workspace volumes a task left (labelled with its id). */
function workspaceVolumesOf(id: string): string {
  return execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=tsk.task=${id}`], { encoding: 'utf8' }).trim();
}
