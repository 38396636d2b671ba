import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import type { ContextFile } from '../../docker/dockerfile-composer.js';
import { copySources, TSK_CONTEXT_DIR } from '../../docker/project-copy.js';
import { ConfigError } from '../../errors/index.js';
import { runGit } from '../../git/index.js';

const GLOB = /[*?[]/;

/** Docker reads COPY sources relative to the context root; `/x` and `./x` both mean `x`, `.` all of it. */
function normalizeSource(source: string): string {
  const normal = posix.normalize(source.replaceAll('\\', '/')).replace(/^\/+/, '').replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) {
    throw new ConfigError(`setup: COPY source "${source}" is outside the repository`, { hint: 'copy files from inside the repository only' });
  }
  if (normal === TSK_CONTEXT_DIR || normal.startsWith(`${TSK_CONTEXT_DIR}/`)) {
    throw new ConfigError(`setup: COPY source "${source}" is in ${TSK_CONTEXT_DIR}/, which tsk keeps for its own build files`);
  }
  return normal === '.' ? '' : normal;
}

/** A Go filepath.Match pattern (what Docker uses for COPY sources) as a regular expression. */
function globRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new ConfigError(`setup: COPY source "${pattern}" has an unclosed [`);
      // Go's classes ([abc], [a-z], [^abc]) read the same in a JavaScript regular expression.
      out += `[${pattern.slice(i + 1, end)}]`;
      i = end;
    } else out += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Whether a COPY source (a path or a pattern) covers `file`: the file itself, or a folder holding it. */
function covers(source: string, file: string): boolean {
  if (source === '') return true;
  if (!GLOB.test(source)) return file === source || file.startsWith(`${source}/`);
  const pattern = globRegExp(source);
  const parts = file.split('/');
  return parts.some((_, index) => pattern.test(parts.slice(0, index + 1).join('/')));
}

/** Every file under `dir` (relative to `root`), for submodules, which `git ls-files` lists as one entry. */
async function walk(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(root, path)));
    else found.push(path);
  }
  return found;
}

/**
 * The files a task's snapshot holds: tracked files as they are on disk and untracked ones, never
 * ignored ones or `.git` — the same view the agent gets, so an image built by `tsk docker build` from
 * the working tree and one built for a task agree.
 */
async function repositoryFiles(root: string): Promise<string[]> {
  const listing = await runGit(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, trustRepository: true });
  const files = new Set<string>();
  for (const path of listing.split('\0').filter(Boolean)) {
    const info = await lstat(join(root, path)).catch(() => undefined);
    if (info?.isDirectory()) (await walk(root, path)).forEach((file) => files.add(file));
    else if (info) files.add(path);
  }
  return [...files].sort();
}

/** A file's bytes for the context; symlinks are followed when they stay inside the repository. */
async function contextFile(root: string, path: string): Promise<ContextFile | undefined> {
  const absolute = join(root, path);
  const target = await realpath(absolute).catch(() => undefined);
  const realRoot = await realpath(root);
  if (!target || relative(realRoot, target).split(sep)[0] === '..') return undefined;
  const info = await stat(target);
  if (!info.isFile()) return undefined;
  const executable = (info.mode & 0o111) !== 0;
  return { name: path, content: await readFile(target), ...(executable ? { mode: 0o755 } : {}) };
}

/**
 * The repository files the project layer's `setup` copies into the image (its `COPY`/`ADD` sources),
 * read from `root`: the task's workspace clone, or the repository for `tsk docker build`.
 *
 * @throws ConfigError for a source outside the repository or one that matches no file.
 */
export async function collectProjectFiles(root: string, setup: string | undefined): Promise<ContextFile[]> {
  const sources = copySources(setup ?? '').map((source) => ({ source, normal: normalizeSource(source) }));
  if (sources.length === 0) return [];
  const available = await repositoryFiles(root);
  const chosen = new Set<string>();
  for (const { source, normal } of sources) {
    const matches = available.filter((file) => covers(normal, file));
    if (matches.length === 0) {
      throw new ConfigError(`setup: COPY source "${source}" matches no file in ${root}`, {
        hint: 'sources are relative to the repository root, and gitignored files are never available',
      });
    }
    matches.forEach((file) => chosen.add(file));
  }
  const files = await Promise.all([...chosen].sort().map((file) => contextFile(root, file)));
  return files.filter((file): file is ContextFile => file !== undefined);
}
