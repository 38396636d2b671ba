import { InputError } from '../errors/input-error.js';
import { runGit, tryGit } from './git-cli.js';
import { isCommitHash } from './git-values.js';

/** What a task did, as git tells it: its commits and the files it changed between its start and its result. */
export interface ResultHistory {
  /** `<short hash> <subject>`, oldest first, at most `maxCommits`. */
  commits: string[];
  /** Commits beyond `maxCommits`. */
  more: number;
  /** `git diff --stat` from start to result. */
  diffstat: string;
}

/** Whether `commit` is a commit of the repository at `repoPath`. */
export async function hasCommit(repoPath: string, commit: string): Promise<boolean> {
  if (!isCommitHash(commit)) return false;
  return (await tryGit(['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], { cwd: repoPath })) !== undefined;
}

/**
 * The commits and diffstat between a task's start (`base`) and its result (`result`) in the user's
 * repository (a follow-up tells its agent what the earlier task did). Both must be full hashes of commits
 * the repository has; no rename detection or external diff of the user's runs.
 */
export async function resultHistory(repoPath: string, base: string, result: string, maxCommits = 200): Promise<ResultHistory> {
  for (const commit of [base, result]) {
    if (!(await hasCommit(repoPath, commit))) throw new InputError(`commit ${commit.slice(0, 40)} is not in ${repoPath}`, { hint: 'with a shared remote, `tsk fetch <id>` brings a result home' });
  }
  const options = { cwd: repoPath };
  const log = await runGit(['log', '--no-color', '--reverse', '--format=%h %s', '--end-of-options', `${base}..${result}`], options);
  const all = log.split('\n').filter((line) => line.trim() !== '');
  const diffstat = await runGit(['diff', '--no-color', '--no-ext-diff', '--no-renames', '--stat=100', '--end-of-options', base, result], options);
  return { commits: all.slice(0, maxCommits), more: Math.max(0, all.length - maxCommits), diffstat };
}
