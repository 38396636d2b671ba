import { isAbsolute } from 'node:path';
import { isTaskId } from '../common/ids.js';
import type { TaskSource } from '../model/task-spec.js';

/*
 * Values that reach git from a job payload or from a workspace an agent wrote are hostile. Each git
 * command also puts `--end-of-options` before them where git supports it; these checks are the other half:
 * a value that is not the kind of thing it claims to be never reaches git at all. Pure, so the payload
 * validator can use them too.
 */

const COMMIT_HASH = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const SNAPSHOT_REF_PREFIX = 'refs/tsk/snapshots/';
const RESULT_REF_PREFIX = 'refs/tsk/results/';
const BRANCH_REF_PREFIX = 'refs/heads/';
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A full commit id as git prints it: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits. */
export function isCommitHash(value: unknown): boolean {
  return typeof value === 'string' && COMMIT_HASH.test(value);
}

/** Exactly `refs/tsk/snapshots/<task id>` (8 characters of [A-Za-z0-9_]). */
export function isSnapshotRef(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(SNAPSHOT_REF_PREFIX) && isTaskId(value.slice(SNAPSHOT_REF_PREFIX.length));
}

/** Exactly `refs/tsk/results/<task id>`: where a worker pushes a task's result on a shared remote. */
export function isResultRef(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(RESULT_REF_PREFIX) && isTaskId(value.slice(RESULT_REF_PREFIX.length));
}

/** The ref a task's result has on a shared remote: outside `refs/heads`, so it shows in no branch list and triggers no CI. */
export function resultRef(taskId: string): string {
  return `${RESULT_REF_PREFIX}${taskId}`;
}

/**
 * Why `name` is not a valid ref name by git's `check-ref-format` rules (without the "at least one slash"
 * rule, so it also checks a branch name), or undefined when it is.
 */
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (CONTROL.test(name)) return 'contains a control character';
  const bad = /[ ~^:?*[\\]/.exec(name);
  if (bad) return `contains "${bad[0]}"`;
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name === '@') return 'is "@"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component.length === 0) return 'contains "//"';
    if (component.startsWith('.')) return 'has a component starting with "."';
    if (component.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  return undefined;
}

/** Why `name` is not a valid branch name (`git check-ref-format --branch`), or undefined when it is. */
export function branchNameProblem(name: string): string | undefined {
  // A leading dash would read as an option wherever git takes a branch name (`checkout -B`, `branch`).
  if (name.startsWith('-')) return 'starts with "-"';
  if (name === 'HEAD') return 'is "HEAD"';
  return refNameProblem(name);
}

/** A valid branch name (the part after `refs/heads/`). */
export function isBranchName(value: unknown): boolean {
  return typeof value === 'string' && branchNameProblem(value) === undefined;
}

/**
 * Why `ref` cannot be a task's source ref, or undefined when it can: a snapshot ref
 * (`refs/tsk/snapshots/<task id>`), or for a remote source also a result ref (a chained task starts from
 * its parent's) or a branch (`refs/heads/<branch>`).
 */
export function sourceRefProblem(ref: string, kind: TaskSource['kind']): string | undefined {
  if (isSnapshotRef(ref) || (kind === 'remote' && isResultRef(ref))) return undefined;
  const expected = kind === 'local' ? 'refs/tsk/snapshots/<task id>' : 'refs/tsk/snapshots/<task id>, refs/tsk/results/<task id> or refs/heads/<branch>';
  if (kind === 'local' || !ref.startsWith(BRANCH_REF_PREFIX)) return `must be ${expected}`;
  const problem = branchNameProblem(ref.slice(BRANCH_REF_PREFIX.length));
  return problem === undefined ? undefined : `names a branch that ${problem}`;
}

const URL_SCHEMES = new Set(['https', 'http', 'ssh', 'git', 'git+ssh', 'ssh+git', 'file']);

/**
 * Why `url` cannot be a task's remote source, or undefined when it can: a `https`, `http`, `ssh`, `git`
 * or `file` URL, an scp-like `[user@]host:path`, or an absolute path. Never a remote-helper transport
 * (`ext::<command>` runs a command), nothing starting with "-", nothing relative to the worker's cwd.
 */
export function remoteUrlProblem(url: string): string | undefined {
  if (url.length === 0) return 'is empty';
  if (CONTROL.test(url)) return 'contains a control character';
  if (url.startsWith('-')) return 'starts with "-"';
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) return 'names a remote-helper transport (<transport>::…)';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme !== undefined) {
    if (!URL_SCHEMES.has(scheme.toLowerCase())) return `uses the unsupported scheme ${scheme}`;
    // A token in the URL would travel through the queue and reach every worker's logs: credentials belong
    // in each side's own git credential store.
    if (/^https?$/i.test(scheme) && /^[^/]*\/\/[^/@]*@/.test(url)) return 'holds credentials (a user name or token before "@"): keep them in git\'s credential store';
    return undefined;
  }
  if (isAbsolute(url)) return undefined;
  // git reads "host:path" as ssh when no slash comes before the first colon.
  const scp = /^(?:[^@/:]+@)?([^/:]+):/.exec(url);
  if (scp) return scp[1]?.startsWith('-') ? 'names a host starting with "-"' : undefined;
  return 'is a relative path';
}

/**
 * Why `value` cannot be a submodule name or path, or undefined when it can: git's own rules for names
 * (relative, no ".." component) and paths (no "." or ".git" component, no empty one), plus no leading "-"
 * and no control character. Such a value becomes a directory under the workspace and under
 * `.git/modules/`, so anything that could climb out of them is refused.
 */
export function submodulePathProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (CONTROL.test(value)) return 'contains a control character';
  if (value.startsWith('-')) return 'starts with "-"';
  if (isAbsolute(value)) return 'is absolute';
  for (const component of value.split(/[/\\]/)) {
    if (component === '..') return 'has a ".." component';
    if (component === '.' || component === '') return 'has an empty or "." component';
    if (component.toLowerCase() === '.git') return 'has a ".git" component';
  }
  return undefined;
}

/**
 * Every problem with a task's source as `source.<field> …` lines (empty when it is usable): `commit` a
 * full commit hash, `ref` per {@link sourceRefProblem}, a local `repoPath` absolute, a remote `url` per
 * {@link remoteUrlProblem}.
 */
export function taskSourceProblems(source: TaskSource): string[] {
  const problems: string[] = [];
  if (!isCommitHash(source.commit)) problems.push('source.commit must be a full commit hash');
  const refProblem = sourceRefProblem(source.ref, source.kind);
  if (refProblem !== undefined) problems.push(`source.ref ${refProblem}`);
  if (source.kind === 'local') {
    if (!isAbsolute(source.repoPath) || CONTROL.test(source.repoPath)) problems.push('source.repoPath must be an absolute path');
  } else {
    const urlProblem = remoteUrlProblem(source.url);
    if (urlProblem !== undefined) problems.push(`source.url ${urlProblem}`);
  }
  return problems;
}
