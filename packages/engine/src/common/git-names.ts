/**
 * Pure checks of the git names a job carries (a task is hostile until checked): what may reach a git
 * command line or a ref database.
 */

const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A full SHA-1 or SHA-256 object name, lower case. */
export function isFullCommitHash(value: string): boolean {
  return FULL_COMMIT.test(value);
}

/**
 * Whether `name` is a valid branch name (`git check-ref-format --branch`), and never read as an option:
 * no leading `-`, no component starting with `.` or ending in `.lock`, no `..`, `@{`, `//`, control
 * characters, space, `~^:?*[\`, not `@`, not ending in `/` or `.`.
 */
export function isBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name === '@' || name.startsWith('-')) return false;
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name) || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}
