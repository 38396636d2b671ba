/**
 * Sanitise a task type or name for use in a branch name: lowercase, anything outside [a-z0-9._-] becomes
 * '-', runs of dashes collapse, and leading/trailing dashes and dots go (git rejects refs ending in '.').
 */
export function sanitizeRefPart(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return cleaned.length > 0 ? cleaned : 'task';
}

/** Result branch of a task: `tsk/<type>/<name>/<id>`. */
export function resultBranchName(type: string, name: string, id: string): string {
  return `tsk/${sanitizeRefPart(type)}/${sanitizeRefPart(name)}/${id}`;
}

const RESULT_BRANCH = /^tsk\/([a-z0-9._-]+)\/([a-z0-9._-]+)\/[A-Za-z0-9_]{8}$/;

/**
 * Whether `branch` is a result branch `tsk/<type>/<name>/<id>` as {@link resultBranchName} makes them:
 * type and name already sanitised, a task id last. The only branches a follow-up may move (a follow-up of
 * a follow-up moves the first task's branch, so the id need not be the earlier task's).
 */
export function isResultBranch(branch: string): boolean {
  const match = RESULT_BRANCH.exec(branch);
  if (match === null) return false;
  const [, type = '', name = ''] = match;
  return sanitizeRefPart(type) === type && sanitizeRefPart(name) === name;
}

/** Project name from a directory name: the same rules, so it is safe in paths, tags and TOML keys. */
export function sanitizeProjectName(value: string): string {
  return sanitizeRefPart(value);
}
