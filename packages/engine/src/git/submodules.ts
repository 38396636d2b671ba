import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import { runGit, tryGit } from './git-cli.js';
import { remoteUrlProblem, submodulePathProblem } from './git-values.js';

/**
 * The repository on this machine that a level of submodules comes from: the origin itself at the top,
 * then the origin's own copy of each submodule. Only what it says is trusted; the `.gitmodules` being
 * checked out was written by whoever made the task's starting commit (an agent, for a child task).
 */
export interface SubmoduleOrigin {
  /** Its git directory: `config` lists the submodules it initialised, `modules/<name>` holds their repositories. */
  gitDir: string;
  /** Its work tree (whose `.gitmodules` declares submodules and may hold their checkouts); undefined when it has none. */
  workdir: string | undefined;
}

interface SubmoduleEntry {
  name: string;
  path: string;
}

/** Where one submodule is cloned from, and what to trust for its own submodules. */
interface Choice {
  url: string;
  origin: SubmoduleOrigin | undefined;
}

/** Beyond this nesting depth something is wrong (a submodule containing itself); stop rather than loop. */
const MAX_DEPTH = 8;

/** `submodule.<name>.<key>` values of a config file, by name then key. A missing or unreadable file gives nothing. */
async function readSubmoduleConfig(file: string, includes: boolean): Promise<Map<string, Map<string, string>>> {
  const byName = new Map<string, Map<string, string>>();
  if (!existsSync(file)) return byName;
  const args = ['config', '-z', '--file', file, ...(includes ? ['--includes'] : []), '--get-regexp', '^submodule\\.'];
  const out = await tryGit(args, { cwd: dirname(file), trustRepository: true });
  // With -z each entry is "<key>\n<value>\0", so names and values may hold spaces, dots or newlines.
  for (const entry of (out ?? '').split('\0')) {
    const newline = entry.indexOf('\n');
    const key = newline < 0 ? entry : entry.slice(0, newline);
    const lastDot = key.lastIndexOf('.');
    if (!key.startsWith('submodule.') || lastDot <= 'submodule.'.length) continue;
    const name = key.slice('submodule.'.length, lastDot);
    const values = byName.get(name) ?? new Map<string, string>();
    values.set(key.slice(lastDot + 1), newline < 0 ? '' : entry.slice(newline + 1));
    byName.set(name, values);
  }
  return byName;
}

/** What the origin itself says about its submodules, read once per level. */
interface OriginKnowledge extends SubmoduleOrigin {
  /** `submodule.<name>.*` of its own config (the submodules it initialised, with resolved URLs). */
  configured: Map<string, Map<string, string>>;
  /** `submodule.<name>.*` of the `.gitmodules` in its work tree. */
  declared: Map<string, Map<string, string>>;
}

async function originKnowledge(origin: SubmoduleOrigin): Promise<OriginKnowledge> {
  return {
    ...origin,
    // --includes only for the origin's own config, never for a .gitmodules.
    configured: await readSubmoduleConfig(join(origin.gitDir, 'config'), true),
    declared: origin.workdir === undefined ? new Map() : await readSubmoduleConfig(join(origin.workdir, '.gitmodules'), false),
  };
}

/** Is `path` a git directory (what `git clone` can read)? */
function isGitDir(path: string): boolean {
  return existsSync(join(path, 'HEAD')) && existsSync(join(path, 'objects'));
}

/** The git directory of a checkout: its `.git` directory, or where its `.git` file points. */
function checkoutGitDir(checkout: string): string | undefined {
  const dotGit = join(checkout, '.git');
  const stat = lstatSync(dotGit, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return isGitDir(dotGit) ? dotGit : undefined;
  if (!stat?.isFile()) return undefined;
  const target = /^gitdir: (.*)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
  if (target === undefined) return undefined;
  const gitDir = resolve(checkout, target);
  return isGitDir(gitDir) ? gitDir : undefined;
}

/**
 * A URL git clones over its file transport: never hard links (a local path would get them), so the
 * sandbox cannot write to the origin's objects.
 */
function fileUrl(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * Where submodule `entry` may come from, or why it may not: the origin's own repository of that submodule
 * (its absorbed `modules/<name>`, or its checkout where the origin's `.gitmodules` puts it), else a URL the
 * origin itself records for that name (its config, then its `.gitmodules`). Never a URL from the
 * `.gitmodules` being checked out: that would let a commit make the host clone any repository it can
 * reach (another local repository, an ssh remote with the user's keys) into the sandbox.
 */
function chooseSource(entry: SubmoduleEntry, origin: OriginKnowledge | undefined): Choice | string {
  const nameProblem = submodulePathProblem(entry.name);
  if (nameProblem !== undefined) return `its name ${nameProblem}`;
  const pathProblem = submodulePathProblem(entry.path);
  if (pathProblem !== undefined) return `its path ${pathProblem}`;
  if (origin === undefined) return 'there is no local origin repository to take it from';

  const declared = origin.declared.get(entry.name);
  const declaredPath = declared?.get('path');
  const checkout =
    origin.workdir !== undefined && declaredPath !== undefined && submodulePathProblem(declaredPath) === undefined
      ? join(origin.workdir, declaredPath)
      : undefined;

  const absorbed = join(origin.gitDir, 'modules', entry.name);
  if (isGitDir(absorbed)) return { url: fileUrl(absorbed), origin: { gitDir: absorbed, workdir: checkout } };
  const checkoutGit = checkout && checkoutGitDir(checkout);
  if (checkout !== undefined && checkoutGit !== undefined) return { url: fileUrl(checkout), origin: { gitDir: checkoutGit, workdir: checkout } };

  const configured = origin.configured.get(entry.name)?.get('url');
  const known = configured ?? declared?.get('url');
  if (known === undefined) return 'the origin has no such submodule (not in its .git/config, its .gitmodules or .git/modules)';
  if (known.startsWith('./') || known.startsWith('../')) return `the origin knows it only by the relative URL ${known}, never resolved`;
  const problem = remoteUrlProblem(known);
  if (problem !== undefined) return `the URL the origin knows for it ${problem}`;
  // Its own submodules: the origin has no copy of this one, so none of them can be vouched for.
  return { url: isAbsolute(known) ? fileUrl(known) : known, origin: undefined };
}

/** `value` for a one-line message: control characters (a newline could forge a log line) become "?". */
function printable(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** The submodules `.gitmodules` of `dir` declares (those with a path). */
async function listSubmodules(dir: string): Promise<SubmoduleEntry[]> {
  const entries: SubmoduleEntry[] = [];
  for (const [name, values] of await readSubmoduleConfig(join(dir, '.gitmodules'), false)) {
    const path = values.get('path');
    if (path !== undefined) entries.push({ name, path });
  }
  return entries;
}

/** Is `child` (under `dir`) really there, and not reached through a symlink the checkout made? */
async function isPlainSubdirectory(dir: string, child: string): Promise<boolean> {
  const real = await realpath(child).catch(() => undefined);
  return real !== undefined && real === join(await realpath(dir), child.slice(dir.length));
}

/**
 * Check out the submodules of the repository in `dir` at their recorded commits, recursively, taking
 * each from `origin` (see {@link chooseSource}) over git's file transport, so no network is needed and
 * nothing is hard-linked. A submodule with no acceptable source is skipped with one `warn` line naming it
 * and why: its directory stays empty and the task still runs.
 *
 * `git submodule init` is never run: it would copy the checked-out `.gitmodules` URLs into the config.
 * Only the submodules given a URL here are initialised, so `protocol.file.allow=always` (off for
 * submodules since git 2.38.1, CVE-2022-39253) only ever applies to URLs tsk chose.
 */
export async function initSubmodules(dir: string, origin: SubmoduleOrigin | undefined, log: LogSink, depth = 0): Promise<void> {
  const entries = await listSubmodules(dir);
  if (entries.length === 0 || depth > MAX_DEPTH) return;
  const git = { cwd: dir, trustRepository: true };
  const knowledge = origin && (await originKnowledge(origin));
  const chosen: Array<{ entry: SubmoduleEntry; origin: SubmoduleOrigin | undefined }> = [];
  for (const entry of entries) {
    const choice = chooseSource(entry, knowledge);
    if (typeof choice === 'string') {
      log.write('warn', `Submodule "${printable(entry.name)}" (${printable(entry.path)}) skipped: ${printable(choice)}`);
      continue;
    }
    debug.git('submodule %s (%s) from %s', entry.name, entry.path, choice.url);
    // The workspace's config, not .gitmodules: the checked-out tree stays identical to the snapshot.
    await runGit(['config', '--end-of-options', `submodule.${entry.name}.url`, choice.url], git);
    chosen.push({ entry, origin: choice.origin });
  }
  if (chosen.length === 0) return;
  // No --init: only the submodules configured above are updated. --checkout and --no-recommend-shallow
  // so the .gitmodules being checked out cannot pick the update strategy or the clone depth either.
  await runGit(['-c', 'protocol.file.allow=always', 'submodule', 'update', '--checkout', '--no-recommend-shallow'], { ...git, log });
  for (const { entry, origin: childOrigin } of chosen) {
    const child = join(dir, entry.path);
    if (!existsSync(join(child, '.git')) || !(await isPlainSubdirectory(dir, child))) continue;
    await initSubmodules(child, childOrigin, log, depth + 1);
  }
}
