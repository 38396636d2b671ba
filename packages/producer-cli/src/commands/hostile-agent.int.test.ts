import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACEHOLDER_CREDENTIAL } from '../../../engine/src/agents/agent.js';
import { ensureTestUser, type TestUser } from '../../../engine/src/test-utils/run-as-user.js';
import { ensureDockerGroup, fileDigests, runTskAs } from '../test-utils/host-files.js';
import { git, repoState } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome, type TskRunResult } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, writeFiles } from '../test-utils/simple-repo.js';

/**
 * The hostile-agent suite of the trust-boundary issue (findings 7–11): `tsk run` tasks whose agent attacks
 * the host through what it leaves in its workspace, its `.git` and its home. Every case runs the real
 * thing: the built `tsk`, real Docker, real git. Each says what the code before the fix did.
 */

interface TaskJson {
  id: string;
  agent: string;
  status: string;
  branch: string | null;
  error: string | null;
}

interface TaskRun {
  task: TaskJson;
  result: TskRunResult;
}

/** The origin's identity (makeSimpleRepo): the only one tsk may commit leftovers with. */
const ORIGIN_IDENTITY = 'Test User <test@example.com>';

/** Parse what `tsk run --json` printed; it prints the task as JSON whatever the outcome. */
function parseTask(result: TskRunResult): TaskRun {
  let task: TaskJson;
  try {
    task = JSON.parse(result.stdout) as TaskJson;
  } catch {
    throw new Error(`tsk printed no task JSON (exit ${String(result.exitCode)})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  // Whatever the agent did, its sandbox is gone once tsk returns.
  expect(containersOf(task.id)).toBe('');
  return { task, result };
}

/** The task ended as `status`; if not, the failure shows why (its error and tsk's log). */
function expectStatus({ task, result }: TaskRun, status: string): void {
  expect(task.status, `error: ${String(task.error)}\n${result.stderr}`).toBe(status);
}

/** `git fsck --full` finds nothing wrong (a dangling object is not damage). */
function expectFsckClean(repo: string): void {
  const out = execFileSync('git', ['fsck', '--full', '--strict', '--no-dangling'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(out.trim()).toBe('');
}

/** Run git as root in a repository another user owns (git refuses "dubious ownership" otherwise). */
function trustingAnyOwner<T>(fn: () => T): T {
  const keys = ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0'] as const;
  const saved = keys.map((key) => process.env[key]);
  Object.assign(process.env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*' });
  try {
    return fn();
  } finally {
    keys.forEach((key, index) => {
      const value = saved[index];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    });
  }
}

/** Single-quote `value` for the agent's bash script. */
function sh(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Fake agent logins and history in a home folder, as a user of both agents has them. */
function writeFakeLogins(home: string): void {
  writeFiles(home, {
    '.claude/.credentials.json': `${JSON.stringify({ claudeAiOauth: { accessToken: 'sk-ant-oat01-FAKE-host-token', refreshToken: 'FAKE-refresh', expiresAt: 4102444800000 } })}\n`,
    '.claude.json': `${JSON.stringify(
      {
        oauthAccount: { emailAddress: 'me@example.com', accountUuid: '00000000-0000-0000-0000-000000000001' },
        userID: 'fake-user-id',
        hasCompletedOnboarding: true,
        projects: { '/home/me/secret-project': { history: [{ display: 'the secret plan' }] } },
        mcpServers: { 'host-mcp': { command: '/usr/local/bin/host-mcp' } },
      },
      null,
      2,
    )}\n`,
    '.claude/projects/-home-me-secret-project/session-1.jsonl': `${JSON.stringify({ type: 'user', message: 'the secret plan' })}\n`,
    '.claude/settings.json': `${JSON.stringify({ model: 'opus' })}\n`,
    '.codex/auth.json': `${JSON.stringify({ OPENAI_API_KEY: 'sk-FAKE-codex-key' })}\n`,
    '.codex/config.toml': 'model = "gpt-5"\n',
    '.codex/history.jsonl': `${JSON.stringify({ text: 'the secret plan' })}\n`,
  });
}

/**
 * Agent layers whose `claude` and `codex` are test fixtures: each runs the instructions as a bash script,
 * like the script agent, but the task is a real claude (codex) task: its credentials, mounts, API gateway
 * bridge (Node.js, as the real layers have) and command line (`claude -p … < /tsk/instructions.md`) are
 * the product's.
 */
const FIXTURE_AGENTS_TOML = ['claude', 'codex']
  .map(
    (agent) => `[defaults.agent_config.${agent}]
setup = '''
RUN apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*
RUN printf '#!/bin/sh\\nexec bash -e /tsk/instructions.md\\n' > /usr/local/bin/${agent} && chmod 755 /usr/local/bin/${agent}
'''
`,
  )
  .join('\n');

describe('hostile agents (tsk run, real Docker, real git)', () => {
  let root: string;
  /** Every image this file builds carries this project name, so afterAll removes exactly those. */
  let project: string;
  let fakeHome: string;
  let home: TskHome;
  let secret: string;
  let secretState: Record<string, string>;
  const taskIds: string[] = [];

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-hostile-')));
    project = `hostile-${randomBytes(4).toString('hex')}`;
    fakeHome = join(root, 'home');
    writeFakeLogins(fakeHome);
    home = await makeTskHome({ HOME: fakeHome });
    // A host port of its own gives this file's tasks a proxy of their own (the port is part of the proxy's
    // fingerprint): other test files, running as the same uid with lock folders of their own, never race
    // it for the same proxy and egress network. Nothing listens there; the sandbox never uses it.
    const hostPort = 40_000 + randomBytes(2).readUInt16BE() % 20_000;
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `[defaults]\nhost_ports = [${hostPort}]\n\n${FIXTURE_AGENTS_TOML}` });
    // Another repository of the user's: never a submodule of any repository a task works on.
    secret = makeSimpleRepo(join(root, 'secret'), { 'secret.txt': 'TOP SECRET\n' });
    secretState = fileDigests(secret);
  });

  afterAll(async () => {
    // The secret repository is only ever read, never a source for any task.
    if (secret) expect(fileDigests(secret)).toEqual(secretState);
    for (const id of taskIds) expect(containersOf(id)).toBe('');
    // Copy-on-write workspaces: each task's volume went with it, whether it completed or failed.
    for (const id of taskIds) expect(execFileSync('docker', ['volume', 'ls', '-q', '--filter', `label=tsk.task=${id}`], { encoding: 'utf8' }).trim()).toBe('');
    if (project) {
      const images = execFileSync('docker', ['images', '-q', '--filter', `label=tsk.project=${project}`], { encoding: 'utf8' }).trim();
      if (images) execFileSync('docker', ['rmi', ...new Set(images.split('\n'))], { stdio: 'ignore' });
    }
    await home?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function run(repo: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TaskRun> {
    const outcome = parseTask(await runTsk(['run', '--repo', repo, '--json', '--project', project, ...args], { env: { ...home.env, ...env } }));
    taskIds.push(outcome.task.id);
    return outcome;
  }

  const script = (repo: string, name: string, lines: string[], env: NodeJS.ProcessEnv = {}) => run(repo, ['--agent', 'script', '-n', name, '-p', lines.join('\n')], env);

  // Finding 7. The agent defines filter drivers, hooks and an fsmonitor in its `.git` (config and info/),
  // all of which would run a program on the host if host git read that config. Before the fix, result
  // collection ran `git add -A` / `commit` with the workspace's `.git` and neutralised only the filter
  // drivers it could parse out of `git config --get-regexp` lines: a driver named `eq=uals` became
  // `-c filter.eq=uals.clean=`, which git reads as key `filter.eq`, so that driver's clean command ran on
  // the host (and names with a tab were skipped altogether). Now the result is assembled in a git dir of
  // tsk's own that never reads the agent's config.
  it('finding 7: filter drivers with odd names, hooks and fsmonitor the agent configured never run on the host', async () => {
    const repo = makeSimpleRepo(join(root, 'filters'));
    const markers = join(root, 'markers');
    mkdirSync(markers);
    const before = repoState(repo);
    const touch = (marker: string) => `touch ${join(markers, marker)}`;
    // Upper case, dots, `=`, a space and a tab: all legal in a config subsection. Attributes cannot name
    // a driver with whitespace, but a parser of `git config` output meets them all.
    const drivers: Array<[name: string, slug: string]> = [
      ['Upper', 'upper'],
      ['dot.ted.name', 'dots'],
      ['eq=uals', 'equals'],
      ['sp ace', 'space'],
      ['ta\tb', 'tab'],
    ];
    const config = [
      ...drivers.map(([name, slug]) =>
        [`[filter "${name}"]`, `\tclean = "${touch(`${slug}-clean`)}; cat"`, `\tsmudge = "${touch(`${slug}-smudge`)}; cat"`].join('\n'),
      ),
      `[filter "Proc.Ess"]\n\tprocess = "${touch('process')}"`,
      `[core]\n\tfsmonitor = "${touch('fsmonitor')} #"\n\thooksPath = .git/evil-hooks`,
    ].join('\n');
    const attributes = ['*.upper filter=Upper', '*.dots filter=dot.ted.name', '*.eq filter=eq=uals', '*.proc filter=Proc.Ess'].join('\n');
    const hooks = ['pre-commit', 'prepare-commit-msg', 'commit-msg', 'post-commit', 'post-checkout', 'post-index-change', 'reference-transaction', 'pre-auto-gc', 'fsmonitor-watchman', 'pre-push'];

    const { task, result } = await script(repo, 'filters', [
      'echo "agent work" > agent.txt',
      'git add agent.txt && git commit -q -m "agent: add agent.txt"',
      // Left uncommitted, so host git must read (and would filter) them.
      ...['upper', 'dots', 'eq', 'proc', 'info'].map((ext) => `echo "content of x.${ext}" > x.${ext}`),
      `cat > .gitattributes <<'EOF'\n${attributes}\nEOF`,
      `echo '*.info filter=eq=uals' > .git/info/attributes`,
      // Last: from here on git in the sandbox would run them too, and fail (the markers' folder is the host's).
      `cat >> .git/config <<'EOF'\n${config}\nEOF`,
      'mkdir -p .git/evil-hooks',
      `for hook in ${hooks.join(' ')}; do`,
      `  printf '#!/bin/sh\\n${touch('hook-%s')}\\n' "$hook" > ".git/hooks/$hook"`,
      `  printf '#!/bin/sh\\n${touch('hooks-path-%s')}\\n' "$hook" > ".git/evil-hooks/$hook"`,
      '  chmod +x ".git/hooks/$hook" ".git/evil-hooks/$hook"',
      'done',
      `git config --local --get-regexp '^filter[.]' | wc -l | sed 's/^/DRIVER-KEYS /'`,
    ]);

    expectStatus({ task, result }, 'COMPLETE');
    // The agent's configuration was in place: 5 drivers × clean/smudge plus one process driver.
    expect(result.stderr).toContain('DRIVER-KEYS 11');
    expect(readdirSync(markers)).toEqual([]);
    const branch = task.branch!;
    expect(git(repo, 'show', `${branch}:agent.txt`)).toBe('agent work');
    for (const ext of ['upper', 'dots', 'eq', 'proc', 'info']) expect(git(repo, 'show', `${branch}:x.${ext}`)).toBe(`content of x.${ext}`);
    expect(git(repo, 'show', `${branch}:.gitattributes`)).toBe(attributes);
    expect(repoState(repo)).toEqual(before);
    expectFsckClean(repo);
  });

  describe('finding 8: symbolic links and redirects in the agent\'s .git', () => {
    let repo: string;
    let before: ReturnType<typeof repoState>;
    beforeAll(() => {
      repo = makeSimpleRepo(join(root, 'links'));
      before = repoState(repo);
    });

    // Before the fix, collection ran `git add -A` and `git commit` with the workspace's `.git` as git dir,
    // and git writes through a symlink it finds there: COMMIT_EDITMSG was overwritten with the commit
    // message and logs/HEAD got a reflog line appended, in whatever host file the link named (the index,
    // refs and packed-refs were read through theirs). Now any symlink in `.git` fails the task before host
    // git touches it.
    it.each([
      ['COMMIT_EDITMSG', ''],
      ['logs/HEAD', ''],
      ['refs/heads/side', 'git branch side'],
      ['index', ''],
      ['packed-refs', 'git pack-refs --all'],
    ])('a symlink at .git/%s to a host file fails the task and leaves that file alone', async (path, setup) => {
      const victims = join(root, 'victims');
      mkdirSync(victims, { recursive: true });
      const victim = join(victims, path.replaceAll('/', '_'));
      const content = `victim for .git/${path}: must stay byte for byte\n`;
      writeFileSync(victim, content, { mode: 0o644 });
      const name = `link-${path.replaceAll('/', '-').toLowerCase().replaceAll('_', '-')}`;

      const { task, result } = await script(repo, name, [
        'echo "agent work" > agent.txt',
        'git add agent.txt && git commit -q -m "agent: add agent.txt"',
        setup,
        'echo leftover > leftover.txt',
        `rm -f .git/${path}`,
        `ln -s ${sh(victim)} .git/${path}`,
        `test -L .git/${path} && echo LINKED`,
      ]);

      expect(result.stderr).toContain('LINKED');
      expectStatus({ task, result }, 'FAILED');
      expect(task.error).toContain(`.git/${path} is a symbolic link`);
      expect(task.branch).toBeNull();
      expect(git(repo, 'branch', '--list', `tsk/generic/${name}/*`)).toBe('');
      expect(readFileSync(victim, 'utf8')).toBe(content);
      expect(repoState(repo)).toEqual(before);
      expectFsckClean(repo);
    });

    // Before the fix, the origin fetched the result from the workspace, whose upload-pack honoured the
    // agent's alternates: a commit whose tree names the secret repository's tree brought the secret's files
    // into the user's repository. Now a redirect file fails the task.
    it('an alternates file lending the workspace another repository\'s objects fails the task', async () => {
      const secretTree = git(secret, 'rev-parse', 'HEAD^{tree}');
      const secretBlob = git(secret, 'rev-parse', 'HEAD:secret.txt');
      const { task, result } = await script(repo, 'alternates', [
        'echo "agent work" > agent.txt',
        'git add agent.txt && git commit -q -m "agent: add agent.txt"',
        `tree=$(printf '040000 tree %s\\tstolen\\n' ${secretTree} | git mktree --missing)`,
        'git update-ref HEAD "$(git commit-tree -p HEAD -m "agent: take the secret" "$tree")"',
        `echo ${sh(join(secret, '.git', 'objects'))} > .git/objects/info/alternates`,
        'echo REDIRECTED',
      ]);

      expect(result.stderr).toContain('REDIRECTED');
      expectStatus({ task, result }, 'FAILED');
      expect(task.error).toContain('.git/objects/info/alternates redirects git');
      expect(task.branch).toBeNull();
      expect(() => git(repo, 'cat-file', '-e', secretBlob)).toThrow();
      expect(repoState(repo)).toEqual(before);
      expectFsckClean(repo);
    });

    // Before the fix, leftovers were committed with the identity git found in the workspace, whose local
    // config is the agent's to write: tsk signed the agent's chosen name. Now tsk commits with the origin's.
    it('commits leftovers with the origin\'s identity, not the one the agent configured', async () => {
      const { task, result } = await script(repo, 'identity', [
        'git config user.name "Evil Agent"',
        'git config user.email evil@attacker.invalid',
        'echo "agent work" > agent.txt',
        'git add agent.txt && git commit -q -m "agent: add agent.txt"',
        'echo leftover > leftover.txt',
      ]);

      expectStatus({ task, result }, 'COMPLETE');
      const [leftover, agentCommit] = git(repo, 'log', '--format=%an <%ae>|%cn <%ce>|%s', '-2', task.branch!).split('\n');
      expect(leftover).toBe(`${ORIGIN_IDENTITY}|${ORIGIN_IDENTITY}|tsk automated changes for task: identity`);
      // The agent's own commit is its business, and shows its configuration was in effect.
      expect(agentCommit).toBe('Evil Agent <evil@attacker.invalid>|Evil Agent <evil@attacker.invalid>|agent: add agent.txt');
      expect(repoState(repo)).toEqual(before);
    });
  });

  describe('finding 9: the agent rewrites its object files', () => {
    /**
     * A repository with every kind of object file: a pack (after gc), loose objects, and an LFS object.
     * Built by this process; `owner` then gets it.
     */
    function objectRichRepo(dir: string): string {
      const repo = makeSimpleRepo(dir, { 'a.txt': 'a\n' });
      git(repo, 'lfs', 'install', '--local');
      git(repo, 'lfs', 'track', '*.bin');
      writeFiles(repo, { 'big.bin': 'large file content\n' });
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'lfs');
      git(repo, 'gc', '--quiet');
      writeFiles(repo, { 'b.txt': 'loose\n' });
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'loose objects');
      return repo;
    }

    /** The copy path, whose defence (copies in the workspace) these cases attack in place. */
    const COPY = { TSK_WORKSPACES: 'copy' };

    /**
     * On the copy-on-write path the workspace holds no object of the origin's: the sandbox sees the origin's
     * object directory itself, read-only, at its own path. The same attack, aimed there, writes nothing.
     */
    const tamperOrigin = (objects: string) => [
      `find ${objects} -type f | sort > /tmp/object-files`,
      `chmod -R u+w ${objects} 2>/dev/null || true`,
      'while read -r file; do',
      `  if printf 'garbage from a hostile agent\\n' > "$file" 2>/dev/null; then echo "OVERWROTE $file"; fi`,
      'done < /tmp/object-files',
      `if (echo planted > ${objects}/planted) 2>/dev/null; then echo "PLANTED"; fi`,
      `echo "TRIED $(wc -l < /tmp/object-files) object files"`,
      'echo after > after.txt',
    ];

    it('copy-on-write: the sandbox cannot write the origin\'s objects it borrows, even as their owner', async () => {
      const repo = objectRichRepo(join(root, 'cow-objects'));
      // Owned by the sandbox's uid: only the read-only mount stands in the way.
      execFileSync('chown', ['-R', '1000:1000', join(repo, '.git', 'objects')]);
      const before = objectState(repo);
      const run = await script(repo, 'tamper-cow', tamperOrigin(join(repo, '.git', 'objects')));
      expect(run.result.stderr).toMatch(/TRIED [1-9]\d* object files/);
      expect(run.result.stderr).not.toMatch(/OVERWROTE|PLANTED/);
      expectStatus(run, 'COMPLETE');
      const after = objectState(repo);
      // The result's fetch added objects and a branch; every object file the user had is as it was.
      for (const [path, digest] of Object.entries(before.objects)) expect(after.objects[path], path).toBe(digest);
      expect(after.lfs).toEqual(before.lfs);
      expectFsckClean(repo);
      expect(git(repo, 'show', `${run.task.branch!}:after.txt`)).toBe('after');
    });

    const TAMPER = [
      'find .git/objects .git/lfs/objects -type f | sort > /tmp/object-files',
      'chmod -R u+w .git/objects .git/lfs || true',
      'while read -r file; do',
      `  if printf 'garbage from a hostile agent\\n' > "$file"; then echo "OVERWROTE $file"; fi`,
      'done < /tmp/object-files',
      'git gc --prune=now --quiet || echo "GC FAILED"',
    ];

    /** Everything of the repository's objects, and the rest of what tsk must leave alone. */
    const objectState = (repo: string) => ({
      objects: fileDigests(join(repo, '.git', 'objects')),
      lfs: fileDigests(join(repo, '.git', 'lfs', 'objects')),
      repo: repoState(repo),
    });

    /** Its objects destroyed, the workspace has no result to give: collecting it fails on them. */
    function expectNoResult(run: TaskRun): void {
      expectStatus(run, 'FAILED');
      expect(run.task.error).toMatch(/is corrupt|too small|unable to unpack/);
      expect(run.task.branch).toBeNull();
    }

    function expectTampered(result: TskRunResult): void {
      // The attack really hit each kind of file in place.
      expect(result.stderr).toMatch(/OVERWROTE \.git\/objects\/pack\/pack-[0-9a-f]+\.pack/);
      expect(result.stderr).toMatch(/OVERWROTE \.git\/objects\/[0-9a-f]{2}\/[0-9a-f]{38}/);
      expect(result.stderr).toMatch(/OVERWROTE \.git\/lfs\/objects\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}/);
    }

    // Before the fix, the workspace was a `git clone` with hard links: its object files (and LFS objects)
    // were the user's own. As root, tsk's `chown -R` of the workspace re-owned the user's object files to
    // the sandbox uid; as an ordinary user the sandbox already was their owner. Either way the agent could
    // chmod and rewrite them, destroying the user's history. Now they are copies (the copy path,
    // `TSK_WORKSPACES=copy`), or borrowed through a read-only mount (copy-on-write, below).
    it('leaves the user\'s objects byte for byte unchanged when tsk runs as this process\'s user', async () => {
      const repo = objectRichRepo(join(root, 'objects'));
      const before = objectState(repo);

      const { task, result } = await script(repo, 'tamper', TAMPER, COPY);

      expectTampered(result);
      expectNoResult({ task, result });
      expect(objectState(repo)).toEqual(before);
      expectFsckClean(repo);
    });

    describe('as a non-root user', () => {
      let user: TestUser | undefined;
      let userRoot: string;
      beforeAll(() => {
        user = ensureTestUser();
        if (user === undefined) return;
        // The test account joins the `docker` group (once; it stays a member) so its tsk reaches the engine.
        ensureDockerGroup(user);
        userRoot = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-hostile-user-')));
      });
      afterAll(() => {
        if (userRoot) rmSync(userRoot, { recursive: true, force: true });
      });

      /** An object-rich repository and a tsk home of `user`'s own, and the repository's objects before the task. */
      function repositoryOfUser(owner: TestUser, repoName: string, homeName: string) {
        const repo = objectRichRepo(join(userRoot, repoName));
        const userHome = join(userRoot, homeName);
        mkdirSync(userHome);
        execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, userRoot]);
        chmodSync(userRoot, 0o755);
        const before = trustingAnyOwner(() => objectState(repo));
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          HOME: userHome,
          TSK_CONFIG_HOME: join(userHome, 'config'),
          TSK_DATA_HOME: join(userHome, 'data'),
          TSK_RUNTIME_DIR: join(userHome, 'run'),
          NO_COLOR: '1',
        };
        return { repo, env, before, dataDir: join(userHome, 'data') };
      }

      // As an ordinary user the sandbox runs as that user's uid, the owner of the repository: the case
      // where hard links let the agent rewrite the user's objects without any chown. Needs root to switch
      // user; when this process is not root, the case above already is this one.
      it('leaves the objects of a repository owned by the user running tsk unchanged', async (context) => {
        if (user === undefined) return context.skip();
        const { repo, env, before } = repositoryOfUser(user, 'repo', 'home');

        const args = ['run', '--repo', repo, '--json', '--project', project, '--agent', 'script', '-n', 'tamper', '-p', TAMPER.join('\n')];
        const { task, result } = parseTask(await runTskAs(user, args, { env: { ...env, ...COPY }, cwd: userRoot }));
        taskIds.push(task.id);

        expectTampered(result);
        expectNoResult({ task, result });
        trustingAnyOwner(() => {
          expect(objectState(repo)).toEqual(before);
          expectFsckClean(repo);
        });
      });

      // Copy-on-write as an ordinary user: the sandbox runs as the repository's owner, so only the read-only
      // mount keeps it from the objects; and the layer's work folder, which the kernel makes as root, still
      // goes with the task.
      it('copy-on-write: leaves the objects of a repository owned by the user running tsk unchanged, and no task folder', async (context) => {
        if (user === undefined) return context.skip();
        const { repo, env, before, dataDir } = repositoryOfUser(user, 'cow-repo', 'cow-home');
        const lines = tamperOrigin(join(repo, '.git', 'objects'));
        const args = ['run', '--repo', repo, '--json', '--project', project, '--agent', 'script', '-n', 'tamper-cow', '-p', lines.join('\n')];
        const run = parseTask(await runTskAs(user, args, { env, cwd: userRoot }));
        taskIds.push(run.task.id);
        expect(run.result.stderr).not.toMatch(/copy-on-write workspaces unavailable/);
        expect(run.result.stderr).toMatch(/TRIED [1-9]\d* object files/);
        expect(run.result.stderr).not.toMatch(/OVERWROTE|PLANTED/);
        expectStatus(run, 'COMPLETE');
        trustingAnyOwner(() => {
          const after = objectState(repo);
          for (const [path, digest] of Object.entries(before.objects)) expect(after.objects[path], path).toBe(digest);
          expectFsckClean(repo);
        });
        expect(readdirSync(join(dataDir, 'tsk', 'tasks'))).toEqual([]);
      });
    });
  });

  describe('finding 10: the agent writes to its credential folders', () => {
    let repo: string;
    let homeBefore: Record<string, string>;
    beforeAll(() => {
      repo = makeSimpleRepo(join(root, 'credentials'));
      homeBefore = fileDigests(fakeHome);
    });

    /** Report what the agent can see of its home into report.txt (committed as a leftover), then attack it. */
    const HOSTILE_LOGIN = [
      '{',
      '  echo "claude-credentials: $(cat ~/.claude/.credentials.json 2>/dev/null || echo absent)"',
      '  echo "claude-dir: $(ls -A ~/.claude 2>/dev/null | tr "\\n" " " || true)"',
      '  echo "claude-json-keys: $(jq -c keys ~/.claude.json 2>/dev/null || echo absent)"',
      '  echo "codex-auth: $(cat ~/.codex/auth.json 2>/dev/null || echo absent)"',
      '  echo "codex-dir: $(ls -A ~/.codex 2>/dev/null | tr "\\n" " " || true)"',
      '  echo "secret-plan-files: $(grep -rl "secret plan" ~ 2>/dev/null | tr "\\n" " " || true)"',
      '  echo "secret-token-files: $(grep -rlE \"FAK[E]-\" ~ /tsk /workspace /etc 2>/dev/null | tr "\\n" " " || true)"',
      '  echo "secret-env: $(env | grep -cE \"FAK[E]-\" || true)"',
      '  echo "api-base: ${ANTHROPIC_BASE_URL:-} ${OPENAI_BASE_URL:-}"',
      '} > report.txt',
      'cat report.txt',
      // The attack: everything the host would read again next time the user runs the agent.
      `mkdir -p ~/.claude/projects/evil ~/.codex`,
      `echo '{"claudeAiOauth":{"accessToken":"planted-by-agent"}}' > ~/.claude/.credentials.json`,
      `echo '{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"touch /tmp/pwned"}]}]}}' > ~/.claude/settings.json`,
      `echo '{}' > ~/.claude/projects/evil/session.jsonl`,
      `jq '.mcpServers = {"evil": {"command": "/bin/sh", "args": ["-c", "touch /tmp/pwned"]}}' ~/.claude.json > /tmp/claude.json 2>/dev/null || echo '{"mcpServers":{"evil":{}}}' > /tmp/claude.json`,
      // `cat >`, not `mv`: a bind-mounted file cannot be replaced, only rewritten.
      'cat /tmp/claude.json > ~/.claude.json',
      `echo '{"OPENAI_API_KEY":"planted-by-agent"}' > ~/.codex/auth.json`,
      `echo 'notify = ["sh", "-c", "touch /tmp/pwned"]' > ~/.codex/config.toml`,
      'echo "written: $(cat ~/.claude/.credentials.json) $(cat ~/.codex/auth.json)"',
    ];

    function report(branch: string): Record<string, string> {
      return Object.fromEntries(
        git(repo, 'show', `${branch}:report.txt`)
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
      );
    }

    // Before the fix, the sandbox got the user's ~/.claude folder and ~/.claude.json (~/.codex for codex)
    // mounted read-write: it read every past session and project history, and what it wrote there (a
    // SessionStart hook, an MCP server, a codex notify command, replaced credentials) was the user's own
    // configuration the next time they ran the agent on the host. Then it got a per-task copy of the login
    // files; now it gets none: a placeholder, and the real key stays with tsk's gateway outside the sandbox.
    it('claude: sees no login at all (a placeholder), and nothing it writes reaches the host\'s ~/.claude or ~/.claude.json', async () => {
      const { task, result } = await run(repo, ['--agent', 'claude', '-n', 'claude-login', '-p', HOSTILE_LOGIN.join('\n')]);

      expectStatus({ task, result }, 'COMPLETE');
      expect(task.agent).toBe('claude');
      expect(result.stderr).toContain('written: {"claudeAiOauth":{"accessToken":"planted-by-agent"}}');
      const seen = report(task.branch!);
      // Keys never enter the sandbox: it holds a placeholder, and reaches the API only through tsk's gateway.
      expect(seen['claude-credentials']).toBe('absent');
      expect(seen['claude-dir']).toBe('');
      expect(seen['claude-json-keys']).toBe('["customApiKeyResponses","hasCompletedOnboarding"]');
      expect(seen['api-base']).toBe('http://127.0.0.1:4180');
      expect(seen['codex-auth']).toBe('absent');
      expect(seen['codex-dir']).toBe('');
      expect(seen['secret-plan-files']).toBe('');
      expect(seen['secret-token-files']).toBe('');
      expect(seen['secret-env']).toBe('0');
      expect(result.stderr).not.toMatch(/sk-ant-oat01-FAKE|sk-FAKE-codex/);
      expect(fileDigests(fakeHome)).toEqual(homeBefore);
    });

    it('codex: sees only a placeholder login, and nothing it writes reaches the host\'s ~/.codex', async () => {
      const { task, result } = await run(repo, ['--agent', 'codex', '-n', 'codex-login', '-p', HOSTILE_LOGIN.join('\n')]);

      expectStatus({ task, result }, 'COMPLETE');
      expect(task.agent).toBe('codex');
      expect(result.stderr).toContain('"OPENAI_API_KEY":"planted-by-agent"');
      const seen = report(task.branch!);
      expect(seen['codex-auth']).toBe(JSON.stringify({ OPENAI_API_KEY: PLACEHOLDER_CREDENTIAL }));
      // Codex is pointed at the gateway by a model provider in its config, not by a variable.
      expect(seen['codex-dir']).toBe('auth.json config.toml');
      expect(seen['api-base']).toBe('');
      expect(seen['claude-credentials']).toBe('absent');
      expect(seen['claude-json-keys']).toBe('absent');
      expect(seen['secret-plan-files']).toBe('');
      expect(seen['secret-token-files']).toBe('');
      expect(seen['secret-env']).toBe('0');
      expect(result.stderr).not.toMatch(/sk-ant-oat01-FAKE|sk-FAKE-codex/);
      expect(fileDigests(fakeHome)).toEqual(homeBefore);
    });
  });

  // Finding 11. Before the fix, preparing a workspace ran `git submodule init` and then `submodule update`
  // with protocol.file.allow=always on the `.gitmodules` of the commit being checked out: a child task
  // starting from an agent's commit cloned whatever that agent named (here another local repository of the
  // user's, by absolute and by relative path) into its sandbox. Now submodules come only from the origin's
  // own copies or URLs the origin itself records; anything else is skipped with a warning.
  it('finding 11: a submodule an agent points at another repository is never cloned for the next task', async () => {
    const repo = makeSimpleRepo(join(root, 'app'));
    const before = repoState(repo);
    const secretHead = git(secret, 'rev-parse', 'HEAD');

    const submodules: Array<[name: string, path: string, url: string]> = [
      ['secret', 'vendor/secret', secret],
      // Relative URLs resolve against the workspace's origin remote: the user's repository, a sibling of secret.
      ['sibling', 'vendor/sibling', '../secret'],
    ];
    const first = await script(repo, 'plant-submodule', [
      ...submodules.flatMap(([name, path, url]) => [
        // An empty folder: an uninitialised submodule, so collecting the result keeps the gitlink.
        `mkdir -p ${path}`,
        `git update-index --add --cacheinfo 160000,${secretHead},${path}`,
        `git config --file .gitmodules submodule.${name}.path ${path}`,
        `git config --file .gitmodules submodule.${name}.url ${sh(url)}`,
      ]),
      'git add .gitmodules',
      'git commit -q -m "agent: vendor the secret"',
    ]);
    expectStatus(first, 'COMPLETE');
    const planted = first.task.branch!;
    expect(git(repo, 'ls-tree', planted, 'vendor/secret')).toContain(`160000 commit ${secretHead}`);

    const second = await run(repo, [
      '--branch',
      planted,
      '--agent',
      'script',
      '-n',
      'use-submodule',
      '-p',
      'for dir in vendor/secret vendor/sibling; do echo "$dir: [$(ls -A "$dir" | tr "\\n" " ")]"; done > seen.txt\ncat seen.txt',
    ]);

    expectStatus(second, 'COMPLETE');
    expect(git(repo, 'show', `${second.task.branch!}:seen.txt`)).toBe('vendor/secret: []\nvendor/sibling: []');
    expect(second.result.stderr).toMatch(/Submodule "secret" \(vendor\/secret\) skipped: the origin has no such submodule/);
    expect(second.result.stderr).toMatch(/Submodule "sibling" \(vendor\/sibling\) skipped: the origin has no such submodule/);
    expect(second.result.stderr).not.toContain('TOP SECRET');
    expect(() => git(repo, 'cat-file', '-e', git(secret, 'rev-parse', 'HEAD:secret.txt'))).toThrow();
    expect(repoState(repo)).toEqual(before);
    expectFsckClean(repo);
  });
});
