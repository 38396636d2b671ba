import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LogSink } from '../logging/log-sink.js';
import { runGit, tryGit } from './git-cli.js';

/** A submodule's origin on this machine: the user's checkout of it and its absorbed git directory. */
export interface SubmoduleOrigin {
  /** The work tree holding the submodules (the origin repository, or a submodule of it). */
  workdir: string;
  /** `<git dir>/modules` of that repository, where absorbed submodule repositories live. */
  modulesDir: string;
}

interface SubmoduleEntry {
  name: string;
  path: string;
}

/** Beyond this nesting depth something is wrong (a submodule containing itself); stop rather than loop. */
const MAX_DEPTH = 8;

async function listSubmodules(dir: string): Promise<SubmoduleEntry[]> {
  if (!existsSync(join(dir, '.gitmodules'))) return [];
  const out = await tryGit(['config', '-z', '-f', '.gitmodules', '--get-regexp', '^submodule\\..*\\.path$'], {
    cwd: dir,
    trustRepository: true,
  });
  if (out === undefined) return [];
  // With -z each entry is "<key>\n<value>\0", so names and paths may hold spaces or dots.
  return out
    .split('\0')
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const newline = entry.indexOf('\n');
      const key = entry.slice(0, newline);
      return { name: key.slice('submodule.'.length, -'.path'.length), path: entry.slice(newline + 1) };
    });
}

/** A local repository holding the submodule's objects, or undefined when only its URL can provide them. */
function localSource(origin: SubmoduleOrigin, entry: SubmoduleEntry): string | undefined {
  const checkout = join(origin.workdir, entry.path);
  if (existsSync(join(checkout, '.git'))) return checkout;
  const absorbed = join(origin.modulesDir, entry.name);
  if (existsSync(join(absorbed, 'HEAD'))) return absorbed;
  return undefined;
}

/**
 * Check out the submodules of the repository in `dir` at their recorded commits, recursively. With an
 * `origin` on this machine each submodule is cloned from the origin's own copy, so no network is needed;
 * submodules the origin never checked out fall back to the URL in `.gitmodules`.
 */
export async function initSubmodules(dir: string, origin: SubmoduleOrigin | undefined, log: LogSink, depth = 0): Promise<void> {
  const entries = await listSubmodules(dir);
  if (entries.length === 0 || depth > MAX_DEPTH) return;
  const git = { cwd: dir, trustRepository: true };
  // `init` copies the URLs from .gitmodules into .git/config; overriding them there (not in .gitmodules)
  // leaves the checked-out tree identical to the snapshot.
  await runGit(['submodule', 'init'], git);
  for (const entry of entries) {
    const source = origin && localSource(origin, entry);
    if (source !== undefined) await runGit(['config', `submodule.${entry.name}.url`, source], git);
  }
  // Since git 2.38.1 the file transport is off for submodules by default (CVE-2022-39253); these sources
  // are the user's own repositories, so allowing it here is safe.
  await runGit(['-c', 'protocol.file.allow=always', 'submodule', 'update', '--init'], { ...git, log });
  for (const entry of entries) {
    const child = join(dir, entry.path);
    if (!existsSync(join(child, '.git'))) continue;
    const childOrigin = origin && {
      workdir: join(origin.workdir, entry.path),
      modulesDir: join(origin.modulesDir, entry.name, 'modules'),
    };
    await initSubmodules(child, childOrigin, log, depth + 1);
  }
}
