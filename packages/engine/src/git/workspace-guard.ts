import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { GitCommandError } from '../errors/git-command-error.js';
import { tryGit } from './git-cli.js';
import { LFS_FILTER } from './lfs.js';

/**
 * The agent ran with full control of the workspace, `.git/` included, and the worker then runs git there
 * on the host. Git config and hooks can run commands (hooks, fsmonitor, filter drivers, LFS extensions)
 * or point git elsewhere (core.worktree, a `.git` file or symlink), so every git command the worker runs
 * in a used workspace goes through these guards. Filters defined in the host's own config (git-crypt…)
 * keep working; drivers the workspace defines itself are turned into pass-through.
 */
export async function workspaceGuard(workspaceDir: string): Promise<string[]> {
  const gitDir = join(workspaceDir, '.git');
  const stat = await lstat(gitDir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new GitCommandError(`${gitDir} is not a directory: the workspace's repository was replaced, refusing to use it`);
  }
  const located = ['--git-dir', gitDir, '--work-tree', workspaceDir];
  const listing = await tryGit([...located, 'config', '--show-scope', '--get-regexp', '^(filter|lfs\\.extension)\\.'], {
    cwd: workspaceDir,
    trustRepository: true,
  });
  const local = new Set<string>();
  const hostValues = new Map<string, string>();
  for (const line of (listing ?? '').split('\n')) {
    const match = /^(\w+)\t(\S+)(?: (.*))?$/.exec(line);
    if (!match) continue;
    // Keys keep their case: a filter driver's name is a case-sensitive subsection.
    const [, scope, key = '', value = ''] = match;
    if (scope === 'local' || scope === 'worktree') local.add(key);
    else if (scope === 'global' || scope === 'system') hostValues.set(key, value);
  }
  const overrides: string[] = [];
  for (const key of local) {
    if (key.startsWith('lfs.extension.')) {
      throw new GitCommandError(`the workspace config defines ${key}; refusing to run an LFS extension the agent configured`);
    }
    if (!key.startsWith('filter.lfs.')) overrides.push('-c', `${key}=${hostValues.get(key) ?? ''}`);
  }
  for (const [key, value] of LFS_FILTER) overrides.push('-c', `${key}=${value}`);
  return [
    ...located,
    '-c', 'core.hooksPath=/dev/null',
    '-c', 'core.fsmonitor=false',
    '-c', 'commit.gpgsign=false',
    '-c', 'gc.auto=0',
    ...overrides,
  ];
}
