import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildSandboxSpec, createDocker, DEFAULT_BASE_IMAGE } from '../docker/index.js';
import { collectResult, createSnapshot, type CollectedResult } from '../git/index.js';
import { silentSink } from '../logging/index.js';
import { git, isolateGitConfig, makeRepo, repoState, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { TaskWorkspace } from './task-workspace.js';

/**
 * Copy-on-write workspaces against the real thing: a shared base checked out once, an overlay volume the
 * engine mounts over it and the task's layer, a sandbox (plain `sh` as uid 1000 on the base image) that
 * changes the tree, and the result collected from the layer alone. Runs only where tsk runs as root (the
 * sandbox's uid differs, as on a worker) and the engine can mount overlays.
 */

const docker = createDocker();
const IDS = { uid: 1000, gid: 1000 };
const IMAGE = DEFAULT_BASE_IMAGE;
const root = process.getuid?.() === 0;

let counter = 0;

interface Origin {
  repo: string;
  dataDir: string;
}

async function origin(files: Record<string, string>): Promise<Origin> {
  const repo = await makeRepo(files);
  const dataDir = await tempDir('tsk-cow-data-');
  return { repo, dataDir };
}

interface TaskRun {
  collected: CollectedResult;
  branch: string;
  taskDir: string;
  exitCode: number;
}

/** One task: snapshot, workspace, `script` in the sandbox, result collected; the workspace always released. */
async function runTask({ repo, dataDir }: Origin, script: string): Promise<TaskRun> {
  const id = `Cw${String(process.pid % 10000).padStart(4, "0")}${String(++counter).padStart(2, "0")}`;
  const branch = `tsk/test/cow/${id}`;
  const snapshot = await createSnapshot({ repoPath: repo, taskId: id, branch: undefined });
  const taskDir = join(dataDir, 'tasks', id);
  const source = { kind: 'local' as const, repoPath: repo, ref: snapshot.ref, commit: snapshot.commit };
  const workspace = await TaskWorkspace.prepare({ docker, dataDir, workerName: 'cow-test', ids: IDS, mode: 'auto' }, { id, branch }, source, taskDir, silentSink);
  try {
    const mount = await workspace.mount(IMAGE, silentSink);
    expect(mount.volume, 'the engine mounts copy-on-write volumes here').toBeDefined();
    // The sandbox's own mounts (buildSandboxSpec): the volume, and the origin's objects read-only.
    const spec = buildSandboxSpec({
      taskId: id,
      workerName: 'cow-test',
      image: IMAGE,
      project: 'p',
      workspaceDir: mount.hostDir,
      workspaceVolume: mount.volume!.name,
      readOnlyPaths: mount.volume!.readOnlyPaths,
      instructionsFile: '/etc/hostname',
      command: ['sh', '-c', script],
      env: [],
      homeMounts: {},
      volumes: [],
      devices: [],
      memoryGb: 1,
      cpus: 1,
      network: { networkMode: 'none', env: [], build: { networkMode: 'none', args: {} } },
    });
    // The base image has no user `agent`: its uid.
    const container = await docker.createContainer({ ...spec, User: `${IDS.uid}:${IDS.gid}`, HostConfig: { ...spec.HostConfig, Init: false } });
    let exitCode: number;
    try {
      await container.start();
      exitCode = ((await container.wait()) as { StatusCode: number }).StatusCode;
    } finally {
      await container.remove({ force: true });
    }
    const collected = await collectResult({ ...workspace.collected, scratchDir: join(taskDir, 'collect'), branch, baseCommit: workspace.baseCommit, taskName: 'cow', repoPath: repo });
    return { collected, branch, taskDir, exitCode };
  } finally {
    await workspace.release();
    execFileSync('rm', ['-rf', taskDir]);
  }
}

/** `mode type path` of every entry of a commit's tree, and each blob's content. */
function tree(repo: string, commit: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of git(repo, 'ls-tree', '-r', commit).split('\n').filter(Boolean)) {
    const [meta = '', path = ''] = line.split('\t');
    const [mode = '', , hash = ''] = meta.split(' ');
    out[path] = `${mode} ${git(repo, 'cat-file', '-p', hash)}`;
  }
  return out;
}

describe.runIf(root)('copy-on-write workspaces', () => {
  beforeAll(async () => {
    await docker.getImage(IMAGE).inspect();
  });
  beforeEach(isolateGitConfig);

  it('collects exactly what the agent changed: edits, removals, opaque folders, renames, modes, links, ignored files', async () => {
    const o = await origin({
      '.gitignore': '*.log\n',
      'keep.txt': 'keep\n',
      'edit.txt': 'old\n',
      'gone.txt': 'gone\n',
      'old-name.txt': 'renamed\n',
      'script.sh': 'echo hi\n',
      'dir/a.txt': 'a\n',
      'dir/b.txt': 'b\n',
      'redo/x.txt': 'x\n',
      'redo/y.txt': 'y\n',
      'deep/keep/k.txt': 'k\n',
      'deep/drop/d.txt': 'd\n',
      'was-file': 'file\n',
      'was-dir/inner.txt': 'inner\n',
    });
    const script = [
      'set -e',
      'echo new > edit.txt',
      'rm gone.txt',
      'mv old-name.txt new-name.txt',
      'chmod +x script.sh',
      'rm -rf dir',
      'rm -rf redo && mkdir redo && echo z > redo/z.txt',
      'rm -rf deep/drop',
      'ln -s keep.txt link',
      'echo ignored > debug.log && echo ignored > deep/keep/trace.log',
      'echo untracked > fresh.txt',
      'rm was-file && mkdir was-file && echo now-dir > was-file/f.txt',
      'rm -rf was-dir && echo now-file > was-dir',
    ].join('\n');
    const { collected, exitCode } = await runTask(o, script);
    expect(exitCode).toBe(0);
    expect(collected.changed).toBe(true);
    expect(tree(o.repo, collected.commit!)).toEqual({
      '.gitignore': '100644 *.log',
      'keep.txt': '100644 keep',
      'edit.txt': '100644 new',
      'new-name.txt': '100644 renamed',
      'script.sh': '100755 echo hi',
      'redo/z.txt': '100644 z',
      'deep/keep/k.txt': '100644 k',
      link: '120000 keep.txt',
      'fresh.txt': '100644 untracked',
      'was-file/f.txt': '100644 now-dir',
      'was-dir': '100644 now-file',
    });
    expect(git(o.repo, 'log', '-1', '--format=%an <%ae>|%s', collected.commit!)).toBe('Test User <test@example.com>|tsk automated changes for task: cow');
  });

  it('a task that changes nothing creates no branch and leaves no volume or layer behind', async () => {
    const o = await origin({ 'a.txt': 'a\n', '.gitignore': '*.log\n' });
    const { collected, taskDir } = await runTask(o, 'cat a.txt > /dev/null');
    expect(collected.changed).toBe(false);
    // Only an ignored file: still no change.
    expect((await runTask(o, 'echo x > debug.log')).collected.changed).toBe(false);
    expect(existsSync(taskDir)).toBe(false);
    expect(execFileSync('docker', ['volume', 'ls', '-q', '--filter', 'label=tsk.role=workspace', '--filter', 'label=tsk.worker=cow-test'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('keeps commits the agent made, reading its objects from the layer', async () => {
    const o = await origin({ 'a.txt': 'a\n' });
    // No git in the sandbox image: the agent writes a commit's loose objects the way git would, made here.
    const scratch = await makeRepo({ 'a.txt': 'a\n' });
    await writeFiles(scratch, { 'b.txt': 'agent\n' });
    git(scratch, 'add', '-A');
    git(scratch, 'commit', '-q', '-m', 'agent commit');
    const base = git(o.repo, 'rev-parse', 'HEAD');
    git(scratch, 'fetch', '-q', o.repo, 'main');
    git(scratch, 'rebase', '-q', 'FETCH_HEAD');
    const commit = git(scratch, 'rev-parse', 'HEAD');
    const objects = git(scratch, 'rev-list', '--objects', `${base}..${commit}`).split('\n').map((line) => line.split(' ')[0]!);
    const copy = objects.map((hash) => `mkdir -p .git/objects/${hash.slice(0, 2)} && cat /in/${hash} > .git/objects/${hash.slice(0, 2)}/${hash.slice(2)}`);
    const inbox = await tempDir('tsk-cow-in-');
    for (const hash of objects) execFileSync('cp', [join(scratch, '.git', 'objects', hash.slice(0, 2), hash.slice(2)), join(inbox, hash)]);
    chmodSync(inbox, 0o755);
    // The container sees /in through the layer: put the objects into the base's view by the script itself.
    const script = ['set -e', ...copy.map((line) => line.replaceAll('/in/', `${inbox}/`)), `echo ${commit} > "$(sed 's/^ref: //' .git/HEAD | sed 's|^|.git/|')"`, 'echo b > b.txt', 'echo agent > b.txt'].join('\n');
    const { collected } = await runTaskWithInbox(o, script, inbox);
    expect(collected.changed).toBe(true);
    expect(collected.commit).toBe(commit);
    expect(git(o.repo, 'log', '-1', '--format=%s', collected.commit!)).toBe('agent commit');
  });

  it('two snapshots of the same uncommitted tree (two commits) share one base; each result starts at its own snapshot', async () => {
    const o = await origin({ 'a.txt': 'a\n' });
    await writeFiles(o.repo, { 'a.txt': 'edited, not committed\n' });
    const first = await runTask(o, 'echo one > one.txt');
    const second = await runTask(o, 'echo two > two.txt');
    const bases = readdirSync(join(o.dataDir, 'workspace-bases')).filter((name) => /^[0-9a-f]{32}$/.test(name));
    expect(bases).toHaveLength(1);
    const parents = [first, second].map((run) => git(o.repo, 'rev-parse', `${run.collected.commit}^`));
    expect(parents[0]).not.toBe(parents[1]);
    expect(git(o.repo, 'rev-parse', `${parents[0]}^{tree}`)).toBe(git(o.repo, 'rev-parse', `${parents[1]}^{tree}`));
    expect(git(o.repo, 'show', `${second.collected.commit}:a.txt`)).toBe('edited, not committed');
    expect(git(o.repo, 'ls-tree', '--name-only', second.collected.commit!).split('\n')).toEqual(['a.txt', 'two.txt']);
  });

  it('a --shared clone: the objects it borrows are read-only in the sandbox too, or git there would miss them', async () => {
    const lender = await makeRepo({ 'a.txt': 'lent\n' });
    const user = join(await tempDir('tsk-cow-shared-'), 'user');
    git(lender, 'clone', '-q', '--shared', lender, user);
    const blob = git(user, 'rev-parse', 'HEAD:a.txt');
    const lent = join(lender, '.git', 'objects', blob.slice(0, 2), blob.slice(2));
    expect(existsSync(lent), 'the blob is a loose object of the lender only').toBe(true);
    const { collected, exitCode } = await runTask({ repo: user, dataDir: await tempDir('tsk-cow-data-') }, `set -e; cat ${lent} > /dev/null; echo read > seen.txt; if echo x > ${lender}/.git/objects/probe; then echo wrote > seen.txt; fi`);
    expect(exitCode).toBe(0);
    expect(git(user, 'show', `${collected.commit}:seen.txt`)).toBe('read');
    expect(existsSync(join(lender, '.git', 'objects', 'probe'))).toBe(false);
  });

  it('the sandbox cannot write the origin\'s objects through its read-only mount, even when it owns them', async () => {
    const o = await origin({ 'a.txt': 'a\n' });
    git(o.repo, 'gc', '-q');
    await writeFiles(o.repo, { 'b.txt': 'b\n' });
    git(o.repo, 'add', '-A');
    git(o.repo, 'commit', '-q', '-m', 'loose');
    // Owned by the sandbox's uid and writable: only the read-only mount stands in the way.
    execFileSync('chown', ['-R', `${IDS.uid}:${IDS.gid}`, join(o.repo, '.git', 'objects')]);
    execFileSync('chmod', ['-R', 'u+w', join(o.repo, '.git', 'objects')]);
    const { '<branches>': _branches, ...before } = repoState(o.repo);
    const objects = join(o.repo, '.git', 'objects');
    const digests = () => execFileSync('sh', ['-c', `cd ${objects} && find . -type f | sort | xargs sha256sum`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const objectsBefore = digests();
    const script = [
      `for f in $(find ${objects} -type f); do (echo garbage >> "$f") 2>/dev/null && echo "appended $f"; (cp /etc/hostname "$f") 2>/dev/null && echo "replaced $f"; done`,
      `(echo x > ${objects}/planted) 2>/dev/null && echo planted`,
      `(rm -f ${objects}/pack/*.pack) 2>/dev/null; ls ${objects}/pack | grep -q '\\.pack$' || echo removed-pack`,
      'true',
    ].join('\n');
    const { collected } = await runTaskLogged(o, script);
    expect(collected.log).toBe('');
    // Every object file the origin had is there, byte for byte (the result's fetch only added new ones).
    expect(digests()).toEqual(expect.arrayContaining(objectsBefore));
    const { '<branches>': _after, ...after } = repoState(o.repo);
    expect(after).toEqual(before);
    expect(git(o.repo, 'fsck', '--full', '--strict', '--no-dangling')).toBe('');
  });

  it('the next task sees the pristine tree after a task rewrote and removed files of the shared base', async () => {
    const o = await origin({ 'a.txt': 'a\n', 'dir/b.txt': 'b\n' });
    const first = await runTask(o, 'set -e; echo rewritten > a.txt; rm -rf dir; echo planted > planted.txt; rm .git/index; echo junk > .git/config');
    expect(first.collected.changed).toBe(true);
    const bases = readdirSync(join(o.dataDir, 'workspace-bases')).filter((name) => /^[0-9a-f]{32}$/.test(name));
    expect(bases).toHaveLength(1);
    const second = await runTask(o, 'set -e; { cat a.txt; cat dir/b.txt; ls; git_config=$(grep -c junk .git/config || true); echo "junk:$git_config"; } > seen.txt');
    expect(second.collected.changed).toBe(true);
    expect(git(o.repo, 'show', `${second.collected.commit!}:seen.txt`)).toBe('a\nb\na.txt\ndir\nseen.txt\njunk:0');
    // Both tasks started from the one checkout.
    expect(readdirSync(join(o.dataDir, 'workspace-bases')).filter((name) => /^[0-9a-f]{32}$/.test(name))).toEqual(bases);
  });

  it('records a submodule\'s new commit the agent left in the layer\'s .git/modules', async () => {
    const lib = await makeRepo({ 'lib.txt': 'v1\n' });
    await writeFiles(lib, { 'lib.txt': 'v2\n' });
    git(lib, 'commit', '-qam', 'v2');
    const v2 = git(lib, 'rev-parse', 'HEAD');
    const v1 = git(lib, 'rev-parse', 'HEAD~1');
    git(lib, 'checkout', '-q', v1);
    const o = await origin({ 'a.txt': 'a\n' });
    git(o.repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'vendor/lib');
    git(o.repo, 'commit', '-qm', 'submodule');
    const { collected } = await runTask(o, `set -e; cat vendor/lib/lib.txt > seen.txt; echo ${v2} > .git/modules/vendor/lib/HEAD`);
    expect(collected.changed).toBe(true);
    expect(git(o.repo, 'show', `${collected.commit!}:seen.txt`)).toBe('v1');
    expect(git(o.repo, 'ls-tree', collected.commit!, 'vendor/lib')).toBe(`160000 commit ${v2}\tvendor/lib`);
  });

  describe('refuses a layer whose .git points elsewhere', () => {
    for (const [name, script] of [
      ['an alternates file', 'echo /tmp > .git/objects/info/alternates; echo x > x.txt'],
      ['a commondir file', 'echo /tmp > .git/commondir; echo x > x.txt'],
      ['a symbolic link', 'ln -sf /etc/passwd .git/description; echo x > x.txt'],
    ] as const) {
      it(name, async () => {
        const o = await origin({ 'a.txt': 'a\n' });
        await expect(runTask(o, script)).rejects.toThrow(/points outside itself/);
        expect(git(o.repo, 'branch', '--list', 'tsk/*')).toBe('');
      });
    }
  });
});

/** runTask, the script's output kept in `out.log` of the layer and returned (not committed: ignored). */
async function runTaskLogged(o: Origin, script: string): Promise<{ collected: CollectedResult & { log: string } }> {
  const run = await runTask(o, `{ ${script}; } > .git/tsk-test-out 2>&1; cp .git/tsk-test-out out.log`);
  const log = run.collected.commit === undefined ? '' : git(o.repo, 'show', `${run.collected.commit}:out.log`);
  return { collected: { ...run.collected, log } };
}

/** runTask with a host folder the script reads from, bind-mounted at the same path. */
async function runTaskWithInbox(o: Origin, script: string, inbox: string): Promise<TaskRun> {
  // The sandbox mounts only its workspace: the files travel in the script itself, base64-encoded.
  const files = readdirSync(inbox);
  const writes = files.map((hash) => `echo ${execFileSync('base64', ['-w0', join(inbox, hash)], { encoding: 'utf8' })} | base64 -d > ${inbox}/${hash}`);
  return runTask(o, [`mkdir -p ${inbox}`, ...writes, script].join('\n'));
}
