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

/** Project name from a directory name: the same rules, so it is safe in paths, tags and TOML keys. */
export function sanitizeProjectName(value: string): string {
  return sanitizeRefPart(value);
}
