import { spawn } from 'node:child_process';
import { DiffUnavailableError } from '../errors/diff-unavailable-error.js';
import { InputError } from '../errors/input-error.js';
import { GitCommandError } from '../errors/git-command-error.js';
import { log as debug } from '../logging/logger.js';
import { gitEnv, summarizeStderr } from './git-cli.js';
import { isCommitHash } from './git-values.js';

/** One file a task changed, as `git diff --numstat` counts it. */
export interface TaskDiffFile {
  path: string;
  added: number;
  removed: number;
  /** git saw a binary file: no line counts, no text in the patch. */
  binary: boolean;
}

/** What a task changed between where it started and its result. */
export interface TaskDiff {
  base: string;
  head: string;
  files: TaskDiffFile[];
  /** The unified diff, cut at `maxBytes` (at a line end when one is near). Hostile text: show it as text. */
  patch: string;
  /** The patch (or the file list) was longer than the bounds and was cut. */
  truncated: boolean;
}

export interface TaskDiffOptions {
  repoPath: string;
  /** Full commit hashes; anything else is refused before git sees it. */
  base: string;
  head: string;
  /** Bytes of patch read at most; git is stopped beyond that. @defaultValue 1 MiB */
  maxBytes?: number;
  /** Files listed at most. @defaultValue 5,000 */
  maxFiles?: number;
}

export const TASK_DIFF_LIMITS = { maxBytes: 1024 * 1024, maxFiles: 5000 } as const;

/*
 * The commits come from Redis and the repository's own config may be anyone's (a clone of a hostile
 * project): git is asked to run no program the repository could name. `--no-ext-diff` (diff.external,
 * diff.<driver>.command), `--no-textconv` (diff.<driver>.textconv), no pager, no fsmonitor hook, and no
 * transport at all (`protocol.allow=never` and each `protocol.<name>.allow`: a partial clone's promisor remote would otherwise fetch a
 * missing object through whatever URL or helper the config names). `GIT_OPTIONAL_LOCKS=0`: the user's
 * repository is read, never written (not even the index's stat refresh). Prefixes and colour are fixed so
 * the patch reads the same whatever diff.noprefix or color.diff say.
 */
const HARDENED = [
  '--no-pager',
  '-c', 'core.fsmonitor=false',
  '-c', 'core.quotePath=false',
  '-c', 'protocol.allow=never',
  // protocol.<name>.allow wins over protocol.allow, and the repository's config may set it: each is closed here.
  ...['ext', 'file', 'git', 'ssh', 'http', 'https', 'fd'].flatMap((name) => ['-c', `protocol.${name}.allow=never`]),
];
const DIFF_FLAGS = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--submodule=short', '--src-prefix=a/', '--dst-prefix=b/'];

/**
 * The diff from `base` to `head` in the repository at `repoPath`: per-file counts and the unified patch,
 * both read with a bound (git is stopped once the bound is reached, nothing unbounded is buffered).
 *
 * @throws InputError when a commit is not a full hash, DiffUnavailableError (`not-fetched`) when it is not in
 *   the repository, GitCommandError when git fails
 */
export async function taskDiff(options: TaskDiffOptions): Promise<TaskDiff> {
  const { repoPath, base, head } = options;
  const maxBytes = options.maxBytes ?? TASK_DIFF_LIMITS.maxBytes;
  const maxFiles = options.maxFiles ?? TASK_DIFF_LIMITS.maxFiles;
  for (const commit of [base, head]) {
    if (!isCommitHash(commit)) throw new InputError(`"${String(commit).slice(0, 80)}" is not a full commit hash`, { hint: 'the task record is damaged: see `tsk list`' });
    if (!(await hasCommitObject(repoPath, commit))) {
      throw new DiffUnavailableError('not-fetched', `commit ${commit} is not in ${repoPath}`, { hint: 'with a shared remote, `tsk fetch <id>` brings a result home' });
    }
  }
  // A path is at most 4096 bytes; two counts and separators add a few more.
  const numstat = await readGit(repoPath, ['diff', ...DIFF_FLAGS, '--numstat', '-z', '--end-of-options', base, head], maxFiles * 4200);
  const listed = parseNumstat(numstat.bytes, numstat.truncated);
  const patch = await readGit(repoPath, ['diff', ...DIFF_FLAGS, '--end-of-options', base, head], maxBytes);
  return {
    base,
    head,
    files: listed.files.slice(0, maxFiles),
    patch: cutPatch(patch.bytes, maxBytes, patch.truncated),
    truncated: patch.truncated || listed.cut || listed.files.length > maxFiles,
  };
}

/** Whether `commit` (a full hash) names a commit object of the repository, asking no transport. */
async function hasCommitObject(repoPath: string, commit: string): Promise<boolean> {
  try {
    await readGit(repoPath, ['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], 1024);
    return true;
  } catch (error) {
    // git ran and said no (exit code): not there. Not starting at all (no git, no directory), or no
    // repository git will read here, is an error of its own: "fetch it" would be the wrong advice.
    // SIGPIPE is git saying no too: in a partial clone it asks its promisor remote for the missing object,
    // that fetch is refused (HARDENED) and exits before git has written its request (3 runs in 20 here, with git 2.39).
    if (!(error instanceof GitCommandError) || error.details === undefined) throw error;
    if (error.details.exitCode === null && error.details.signal !== 'SIGPIPE') throw error;
    if (/not a git repository|dubious ownership/i.test(error.details.stderr)) {
      throw new GitCommandError(`${repoPath} is not a git repository git will read here: ${summarizeStderr(error.details.stderr).slice(0, 300)}`, error.details, {
        hint: 'the diff is read as the user running the dashboard, from a repository of theirs',
      });
    }
    return false;
  }
}

/** `git diff --numstat -z` records: `added\tremoved\tpath\0`, `-\t-\tpath\0` for a binary file. */
export function parseNumstat(bytes: Buffer, truncated: boolean): { files: TaskDiffFile[]; cut: boolean } {
  const records = bytes.toString('utf8').split('\0');
  // The last element is what followed the final NUL: empty when the output ended there, a cut record otherwise.
  const tail = records.pop() ?? '';
  const files: TaskDiffFile[] = [];
  for (const record of records) {
    const match = /^(-|\d+)\t(-|\d+)\t([^]*)$/.exec(record);
    if (!match) continue;
    const [, added = '', removed = '', path = ''] = match;
    const binary = added === '-' && removed === '-';
    files.push({ path, added: binary ? 0 : Number(added), removed: binary ? 0 : Number(removed), binary });
  }
  return { files, cut: truncated || tail !== '' };
}

/** The patch as text, cut at `maxBytes`: at the last line end when one is in the second half, else at the byte. */
export function cutPatch(bytes: Buffer, maxBytes: number, truncated: boolean): string {
  if (!truncated && bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = Math.min(bytes.length, maxBytes);
  const newline = bytes.lastIndexOf(0x0a, end - 1);
  if (newline >= end / 2) end = newline + 1;
  // A multi-byte character cut in two decodes as U+FFFD: harmless, the text is shown as text.
  return bytes.subarray(0, end).toString('utf8');
}

interface BoundedOutput {
  bytes: Buffer;
  /** More than `maxBytes` came: git was stopped. */
  truncated: boolean;
}

/**
 * Run git in `repoPath` and keep at most `maxBytes` of its stdout (plus one byte, to know there was more),
 * then stop it. stderr is kept to 8 KiB for the error message.
 */
function readGit(repoPath: string, args: readonly string[], maxBytes: number): Promise<BoundedOutput> {
  const fullArgs = [...HARDENED, ...args];
  debug.git('git %s (in %s, at most %d bytes)', fullArgs.join(' '), repoPath, maxBytes);
  return new Promise((resolve, reject) => {
    const child = spawn('git', fullArgs, { cwd: repoPath, env: gitEnv({ env: { GIT_OPTIONAL_LOCKS: '0' } }), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      const room = maxBytes + 1 - kept;
      out.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      kept += Math.min(chunk.length, room);
      if (kept > maxBytes) {
        truncated = true;
        child.stdout.destroy();
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => reject(new GitCommandError(`cannot run git in ${repoPath}: ${error.message}`, undefined, { cause: error, hint: 'check that git is installed and on PATH, and that the repository exists' })));
    child.on('close', (exitCode, signal) => {
      if (truncated) return resolve({ bytes: Buffer.concat(out), truncated: true });
      if (exitCode !== 0) {
        const reason = summarizeStderr(stderr) || (signal ? `killed by ${signal}` : `exit code ${String(exitCode)}`);
        return reject(new GitCommandError(`git ${args[0] ?? ''} failed in ${repoPath}: ${reason}`, { args: fullArgs, cwd: repoPath, exitCode, signal, stderr }));
      }
      resolve({ bytes: Buffer.concat(out), truncated: false });
    });
  });
}
