import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DiffUnavailableError, GitCommandError, InputError } from '../errors/index.js';
import { git, isolateGitConfig, makeRepo, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { cutPatch, parseNumstat, taskDiff } from './task-diff.js';

beforeEach(isolateGitConfig);

/** A repository with a start commit and a result commit that adds, changes, deletes and adds a binary file. */
async function taskRepo(): Promise<{ repo: string; base: string; head: string }> {
  const repo = await makeRepo({ 'keep.txt': 'one\ntwo\nthree\n', 'gone.txt': 'bye\n' });
  const base = git(repo, 'rev-parse', 'HEAD');
  await writeFiles(repo, { 'keep.txt': 'one\n2\nthree\nfour\n', 'new dir/ünï <b>.txt': 'hello <script>alert(1)</script>\n', 'blob.bin': Buffer.from([0, 1, 2, 0, 255, 0]) });
  await rm(join(repo, 'gone.txt'));
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'result');
  return { repo, base, head: git(repo, 'rev-parse', 'HEAD') };
}

describe('taskDiff', () => {
  it('lists each changed file with its counts and gives the unified patch', async () => {
    const { repo, base, head } = await taskRepo();
    const diff = await taskDiff({ repoPath: repo, base, head });
    expect(diff.base).toBe(base);
    expect(diff.head).toBe(head);
    expect(diff.truncated).toBe(false);
    expect([...diff.files].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'blob.bin', added: 0, removed: 0, binary: true },
      { path: 'gone.txt', added: 0, removed: 1, binary: false },
      { path: 'keep.txt', added: 2, removed: 1, binary: false },
      { path: 'new dir/ünï <b>.txt', added: 1, removed: 0, binary: false },
    ]);
    // The same text git itself prints (unquoted paths, a/ b/ prefixes), hostile content left as it is.
    expect(diff.patch).toBe(execFileSync('git', ['-c', 'core.quotePath=false', 'diff', '--no-renames', base, head], { cwd: repo, encoding: 'utf8' }));
    expect(diff.patch).toContain('+hello <script>alert(1)</script>');
    expect(diff.patch).toContain('Binary files /dev/null and b/blob.bin differ');
  });

  it('stops reading at maxBytes and says it cut the patch', async () => {
    const repo = await makeRepo({ 'a.txt': 'start\n' });
    const base = git(repo, 'rev-parse', 'HEAD');
    await writeFile(join(repo, 'a.txt'), Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n'));
    git(repo, 'commit', '--quiet', '-am', 'big');
    const head = git(repo, 'rev-parse', 'HEAD');
    const diff = await taskDiff({ repoPath: repo, base, head, maxBytes: 10_000 });
    expect(diff.truncated).toBe(true);
    expect(Buffer.byteLength(diff.patch)).toBeLessThanOrEqual(10_000);
    expect(Buffer.byteLength(diff.patch)).toBeGreaterThan(5_000);
    expect(diff.patch.endsWith('\n')).toBe(true);
    expect(diff.files).toEqual([{ path: 'a.txt', added: 50_000, removed: 1, binary: false }]);
  });

  it('refuses a commit value that is not a full hash before git sees it (an option, a rev expression)', async () => {
    const { repo, head } = await taskRepo();
    const out = join(await tempDir(), 'written-by-git');
    for (const hostile of [`--output=${out}`, 'HEAD~1', `${head}^`, head.toUpperCase(), '-p']) {
      await expect(taskDiff({ repoPath: repo, base: hostile, head })).rejects.toBeInstanceOf(InputError);
      await expect(taskDiff({ repoPath: repo, base: head, head: hostile })).rejects.toBeInstanceOf(InputError);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('says a commit the repository lacks is not fetched', async () => {
    const { repo, base } = await taskRepo();
    const error = await taskDiff({ repoPath: repo, base, head: 'b'.repeat(40) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiffUnavailableError);
    expect((error as DiffUnavailableError).reason).toBe('not-fetched');
    expect((error as DiffUnavailableError).hint).toMatch(/tsk fetch/);
  });

  it('says so when the path is not a repository (no "fetch it" advice)', async () => {
    const { base, head } = await taskRepo();
    const error = await taskDiff({ repoPath: await tempDir(), base, head }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GitCommandError);
    expect((error as GitCommandError).message).toMatch(/is not a git repository git will read here/);
  });

  it("runs no program the repository's config names: external diff, diff driver, textconv, pager, fsmonitor", async () => {
    const { repo, base, head } = await taskRepo();
    const marker = join(await tempDir(), 'ran');
    const run = `sh -c 'echo ran >> ${marker}'`;
    // A hostile clone's .git/config and .gitattributes (in the commits diffed too).
    await appendFile(
      join(repo, '.git/config'),
      `[diff]\n\texternal = ${run}\n[diff "evil"]\n\tcommand = ${run}\n\ttextconv = ${run}; cat\n[core]\n\tpager = ${run}; cat\n\tfsmonitor = ${run}\n`,
    );
    await writeFile(join(repo, '.git/info/attributes'), '* diff=evil\n');
    // Control: the same config does run the program for a plain git diff, so the test can fail.
    execFileSync('git', ['diff', base, head], { cwd: repo, stdio: 'ignore' });
    expect(existsSync(marker)).toBe(true);
    await rm(marker);
    execFileSync('git', ['diff', '--no-ext-diff', base, head], { cwd: repo, stdio: 'ignore' });
    expect(existsSync(marker)).toBe(true);
    await rm(marker);

    const diff = await taskDiff({ repoPath: repo, base, head });
    expect(existsSync(marker)).toBe(false);
    expect(diff.patch).toContain('+four');
    expect(diff.files.map((file) => file.path)).toContain('keep.txt');
  });

  it('does not fetch a missing object through a promisor remote the config names', async () => {
    const { repo, base, head } = await taskRepo();
    const dir = await tempDir();
    const marker = join(dir, 'fetched');
    const script = join(dir, 'helper.sh');
    await writeFile(script, `#!/bin/sh\necho ran >> ${marker}\nexit 1\n`, { mode: 0o755 });
    // A partial clone whose promisor remote is a command: git would run it to fetch a missing object.
    git(repo, 'config', 'extensions.partialClone', 'evil');
    git(repo, 'config', 'remote.evil.promisor', 'true');
    git(repo, 'config', 'remote.evil.url', `ext::${script}`);
    git(repo, 'config', 'protocol.ext.allow', 'always');
    git(repo, 'config', 'core.repositoryformatversion', '1');
    // Several times: git sometimes ends by SIGPIPE here (its refused fetch exits before git writes to it).
    for (let attempt = 0; attempt < 20; attempt++) {
      const error = await taskDiff({ repoPath: repo, base, head: 'c'.repeat(40) }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DiffUnavailableError);
    }
    expect(existsSync(marker)).toBe(false);
    // Control: git alone does try the promisor remote for the missing object.
    try {
      execFileSync('git', ['cat-file', '-e', `${'c'.repeat(40)}^{commit}`], { cwd: repo, stdio: 'ignore' });
    } catch {
      // it fails either way: the command fetches nothing
    }
    expect(existsSync(marker)).toBe(true);
  });

  it('leaves the repository as it was: no index refresh, no written file', async () => {
    const { repo, base, head } = await taskRepo();
    const indexBefore = execFileSync('stat', ['-c', '%Y %s', join(repo, '.git/index')], { encoding: 'utf8' });
    // The test's own status must not write the index either: git status refreshes it when an entry is as
    // new as the index (the commit just before, in the same second), unless optional locks are off.
    const status = () => git(repo, '--no-optional-locks', 'status', '--porcelain', '--ignored');
    const filesBefore = status();
    await taskDiff({ repoPath: repo, base, head });
    expect(execFileSync('stat', ['-c', '%Y %s', join(repo, '.git/index')], { encoding: 'utf8' })).toBe(indexBefore);
    expect(status()).toBe(filesBefore);
  });
});

describe('parseNumstat and cutPatch', () => {
  it('reads -z records and notices a cut last record', () => {
    expect(parseNumstat(Buffer.from('1\t2\ta b\0-\t-\tx.bin\0'), false)).toEqual({
      files: [
        { path: 'a b', added: 1, removed: 2, binary: false },
        { path: 'x.bin', added: 0, removed: 0, binary: true },
      ],
      cut: false,
    });
    expect(parseNumstat(Buffer.from('1\t2\ta\0' + '3\t4\tpartial-na'), true)).toEqual({ files: [{ path: 'a', added: 1, removed: 2, binary: false }], cut: true });
  });

  it('cuts at a line end near the bound, else at the bound', () => {
    expect(cutPatch(Buffer.from('aaaa\nbbbb\ncccc\n'), 12, true)).toBe('aaaa\nbbbb\n');
    expect(cutPatch(Buffer.from('a\n' + 'b'.repeat(40)), 20, true)).toBe('a\n' + 'b'.repeat(18));
    expect(cutPatch(Buffer.from('short\n'), 20, false)).toBe('short\n');
  });
});
