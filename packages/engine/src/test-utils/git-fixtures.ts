import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished, vi } from 'vitest';

/** Files to write: path relative to the repository → content. */
export type FileTree = Record<string, string | Buffer>;

/** A temporary directory removed when the current test finishes (pass or fail). */
export async function tempDir(prefix = 'tsk-test-'): Promise<string> {
  // realpath: macOS's /tmp is a symlink, and git reports resolved paths.
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Make git ignore the machine's global and system config for the rest of the test: a fixed identity,
 * `main` as the default branch, and nothing else (no gpg signing, no global LFS filter, no hooks path).
 */
export async function isolateGitConfig(): Promise<void> {
  const dir = await tempDir('tsk-gitconfig-');
  const file = join(dir, 'gitconfig');
  await writeFile(file, '[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n');
  vi.stubEnv('GIT_CONFIG_GLOBAL', file);
  vi.stubEnv('GIT_CONFIG_NOSYSTEM', '1');
}

/** Run git synchronously in `cwd` and return its trimmed stdout (test setup and assertions only). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Write `files` under `dir`, creating parent directories. */
export async function writeFiles(dir: string, files: FileTree): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

export interface MakeRepoOptions {
  /** Commit the files (message "initial"). @defaultValue true */
  commit?: boolean;
}

/** A fresh repository in a temporary directory (removed after the test), holding `files`. */
export async function makeRepo(files: FileTree = {}, options: MakeRepoOptions = {}): Promise<string> {
  const dir = await tempDir('tsk-repo-');
  git(dir, 'init', '--quiet', '--initial-branch=main');
  await writeFiles(dir, files);
  if (options.commit ?? true) {
    git(dir, 'add', '-A');
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', 'initial');
  }
  return dir;
}

function hashFile(path: string): string {
  const stat = lstatSync(path);
  const content = stat.isSymbolicLink() ? readlinkSync(path) : readFileSync(path);
  return `${stat.mode.toString(8)} ${createHash('sha256').update(content).digest('hex')}`;
}

function walk(root: string, dir: string, out: Record<string, string>): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (rel === '.git') continue;
    if (entry.isDirectory()) walk(root, rel, out);
    else out[rel] = hashFile(join(root, rel));
  }
}

/**
 * Everything of a work tree that tsk must never change: index bytes and mtime, HEAD, branches, and every
 * file's content and mode. Reads files directly (no `git status`, which may rewrite the index).
 */
export function repoState(workdir: string, gitDir = join(workdir, '.git')): Record<string, string> {
  const state: Record<string, string> = {};
  const index = join(gitDir, 'index');
  state['<index>'] = existsSync(index) ? `${hashFile(index)} ${statSync(index).mtimeMs}` : 'absent';
  state['<HEAD>'] = readFileSync(join(gitDir, 'HEAD'), 'utf8');
  state['<branches>'] = git(workdir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads');
  walk(workdir, '', state);
  return state;
}

/** `device:inode` → path of every regular file under `root`. */
function fileIds(root: string, out: Map<string, string>): Map<string, string> {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) fileIds(path, out);
    else if (entry.isFile()) {
      const stat = lstatSync(path);
      out.set(`${stat.dev}:${stat.ino}`, path);
    }
  }
  return out;
}

/** Files under `dir` that are the very same file (hard links: same device and inode) as one under any of `others`. */
export function sharedFiles(dir: string, ...others: string[]): string[] {
  const theirs = new Map<string, string>();
  for (const other of others) fileIds(other, theirs);
  return [...fileIds(dir, new Map())].filter(([id]) => theirs.has(id)).map(([, path]) => path);
}
