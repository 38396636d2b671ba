import { existsSync } from 'node:fs';
import { runProcess } from '../common/run-process.js';
import { GitCommandError } from '../errors/git-command-error.js';
import type { LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import { withTrustingConfig } from './trusting-config.js';

/** How to run one git command. */
export interface RunGitOptions {
  /** Directory git runs in; it finds the repository from here. */
  cwd: string;
  /** Extra environment variables, layered over the (scrubbed) environment of this process. */
  env?: Record<string, string>;
  /** Written to git's stdin. */
  input?: string | Buffer;
  /** When given, each line git writes to stderr is forwarded as a `tsk` progress line. */
  log?: LogSink;
  /**
   * Trust repositories owned by another uid (`safe.directory=*`), both on the command line and through
   * GIT_CONFIG_GLOBAL so that the git processes started for the other side of a local fetch or clone trust
   * it too. Required when git touches a tsk workspace (owned by the sandbox's uid) or, from a worker, the
   * user's repository.
   * @defaultValue false
   */
  trustRepository?: boolean;
}

/**
 * Variables that pin git to one repository (`git rev-parse --local-env-vars`). They are dropped from the
 * inherited environment so that a tsk started from inside a git hook (where GIT_DIR, GIT_INDEX_FILE… are
 * set) still works on the repository named by `cwd`. Callers set them explicitly through `env`.
 */
const REPOSITORY_ENV = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_CONFIG',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_OBJECT_DIRECTORY',
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_GRAFT_FILE',
  'GIT_INDEX_FILE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_REPLACE_REF_BASE',
  'GIT_PREFIX',
  'GIT_SHALLOW_FILE',
  'GIT_COMMON_DIR',
];

export function gitEnv(options: Pick<RunGitOptions, 'env'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_ENV) delete env[name];
  // tsk runs unattended (often in a worker): a credential prompt would hang the task forever.
  env.GIT_TERMINAL_PROMPT = '0';
  return Object.assign(env, options.env);
}

/** Options that take a separate value, skipped when naming the subcommand in messages. */
const OPTIONS_WITH_VALUE = new Set(['-c', '-C', '--git-dir', '--work-tree', '--namespace']);

/** The git subcommand in `args` (`fetch` in `-c a=b --git-dir x fetch origin`). */
export function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return '';
}

/** git's stderr as one trimmed line: its `fatal:`/`error:` lines when there are any, else all of it. */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const fatal = lines.filter((line) => /^(fatal|error):/.test(line));
  return (fatal.length > 0 ? fatal : lines).join(' ').trim();
}

/**
 * Run `git <args>` and return its stdout. A non-zero exit becomes a {@link GitCommandError} whose message
 * carries git's own reason, so the user sees why git refused.
 */
export async function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  const env = gitEnv(options);
  if (!options.trustRepository) return runGitWith(args, env, options);
  return withTrustingConfig(env, (file) => runGitWith(['-c', 'safe.directory=*', ...args], { ...env, GIT_CONFIG_GLOBAL: file }, options));
}

async function runGitWith(args: readonly string[], env: NodeJS.ProcessEnv, options: RunGitOptions): Promise<string> {
  debug.git('git %s (in %s)', args.join(' '), options.cwd);
  const sink = options.log;
  const result = await runProcess('git', args, {
    cwd: options.cwd,
    env,
    input: options.input,
    onLine: sink ? (line, stream) => stream === 'stderr' && sink.write('tsk', line) : undefined,
  }).catch((error: unknown) => {
    // Only "cannot start" lands here, and spawn says ENOENT both for a missing git and a missing cwd.
    if (!existsSync(options.cwd)) throw new GitCommandError(`cannot run git: ${options.cwd} does not exist`, undefined, { cause: error });
    throw new GitCommandError(`cannot run git in ${options.cwd}: ${error instanceof Error ? error.message : String(error)}`, undefined, {
      cause: error,
      hint: 'check that git is installed and on PATH',
    });
  });
  if (result.exitCode !== 0) {
    const reason = summarizeStderr(result.stderr) || `exit code ${String(result.exitCode ?? result.signal)}`;
    debug.git('git %s failed: %s', subcommand(args), result.stderr.trim());
    throw new GitCommandError(`git ${subcommand(args)} failed in ${options.cwd}: ${reason}`, {
      args,
      cwd: options.cwd,
      exitCode: result.exitCode,
      stderr: result.stderr,
    });
  }
  return result.stdout;
}

/**
 * The one way tsk fetches objects into a repository: every new object checked (`fetch.fsckObjects`: a
 * malformed tree or a hostile `.gitmodules` is refused before it lands), no tags, no FETCH_HEAD, no
 * background maintenance, and `source` after `--end-of-options`.
 */
export function checkedFetchArgs(source: string, refspecs: readonly string[]): string[] {
  return ['-c', 'fetch.fsckObjects=true', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', '--end-of-options', source, ...refspecs];
}

/** Like {@link runGit}, but a non-zero exit returns `undefined` (for questions such as "is this set?"). */
export async function tryGit(args: readonly string[], options: RunGitOptions): Promise<string | undefined> {
  try {
    return await runGit(args, options);
  } catch (error) {
    if (error instanceof GitCommandError) return undefined;
    throw error;
  }
}
