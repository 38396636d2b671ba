import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function hashTree(dir: string, hash: ReturnType<typeof createHash>, rel = ''): void {
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (rel === '' && name === '.git') continue;
    const path = join(rel, name);
    const stat = lstatSync(join(dir, path));
    hash.update(`${path}\0${stat.mode}\0`);
    if (stat.isDirectory()) hashTree(dir, hash, path);
    else if (stat.isSymbolicLink()) hash.update(readlinkSync(join(dir, path)));
    else hash.update(readFileSync(join(dir, path)));
  }
}

/**
 * Everything of the user's repository that tsk must leave alone: the index file bytes, HEAD, every ref
 * outside tsk's own namespaces, and every file of the working tree (ignored ones included).
 */
export function repoState(repo: string): { index: string; head: string; refs: string; tree: string } {
  const digest = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  const tree = createHash('sha256');
  hashTree(repo, tree);
  const refs = git(repo, 'for-each-ref', '--format=%(refname) %(objectname)')
    .split('\n')
    .filter((line) => !line.startsWith('refs/heads/tsk/') && !line.startsWith('refs/tsk/'))
    .join('\n');
  return {
    index: digest(readFileSync(join(repo, '.git', 'index'))),
    head: readFileSync(join(repo, '.git', 'HEAD'), 'utf8'),
    refs,
    tree: tree.digest('hex'),
  };
}
