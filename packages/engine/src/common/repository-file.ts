import { realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';

/**
 * The real path of a repository's own file (`.tsk/…`) when it stays inside the repository, symbolic links
 * included; `undefined` when it leads outside. A repository is hostile until its user trusts it: a link
 * to `~/.ssh/id_ed25519` must not become a task's instructions or Dockerfile lines, which the agent, the
 * queue and the build log all see. A link to another file of the repository shows nothing new.
 *
 * @throws the file system's error when `path` cannot be resolved (ENOENT for a missing file).
 */
export async function realPathInside(root: string, path: string): Promise<string | undefined> {
  const [realRoot, target] = await Promise.all([realpath(root), realpath(path)]);
  const rest = relative(realRoot, target);
  return rest === '' || rest === '..' || rest.startsWith(`..${sep}`) ? undefined : target;
}
