import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';

/** git follows alternates this deep (its own limit), and so does tsk. */
const MAX_DEPTH = 5;

/**
 * The object directories an origin's object directory borrows from through `objects/info/alternates`
 * (a repository cloned with `--shared` or `--reference`), followed as git follows them: relative paths
 * from the object directory, nested up to git's depth, each real path once, only directories that exist.
 * A copy-on-write sandbox mounts these read-only beside the origin's own objects, or git in the sandbox
 * would miss every borrowed object. The origin is the user's own repository (or tsk's mirror), not a
 * workspace: what it borrows is what the user's git already reads.
 */
export async function borrowedObjectDirs(objectsDir: string): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>([objectsDir]);
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    const text = await readFile(resolve(dir, 'info', 'alternates'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const entry = line.trim();
      if (entry === '' || entry.startsWith('#')) continue;
      const path = isAbsolute(entry) ? entry : resolve(dir, entry);
      const real = await realpath(path).catch(() => undefined);
      if (real === undefined || seen.has(real) || !(await stat(real).then((s) => s.isDirectory(), () => false))) continue;
      seen.add(real);
      found.push(real);
      await visit(real, depth + 1);
    }
  };
  await visit(objectsDir, 1);
  return found;
}
