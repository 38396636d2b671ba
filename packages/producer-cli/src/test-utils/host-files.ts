import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { outputOf, TSK_BIN, type TskRunResult } from './run-tsk.js';

/**
 * Every entry under `dir`, recursively: relative path (folders end in `/`) → mode, owner and, for a file,
 * the sha256 of its bytes (for a symlink, its target). Nothing of it may change when a file is rewritten
 * in place, re-owned, made writable or added; access and modification times are left out, since git
 * freshens the mtime of objects it finds already present. A missing `dir` gives no entries.
 */
export function fileDigests(dir: string): Record<string, string> {
  const digests: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(dir, path);
      const stat = lstatSync(full);
      const meta = `${stat.mode.toString(8)} ${stat.uid}:${stat.gid}`;
      if (stat.isDirectory()) {
        digests[`${path}/`] = meta;
        walk(path);
      } else if (stat.isSymbolicLink()) {
        digests[path] = `${meta} -> ${readlinkSync(full)}`;
      } else {
        digests[path] = `${meta} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
      }
    }
  };
  if (existsSync(dir)) walk('');
  return digests;
}

/** An account to run tsk as. */
export interface TskUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * Make `user` a member of the `docker` group (idempotent) so a tsk it runs reaches the engine. Only
 * root can; the caller runs this only when the account was made for tests.
 */
export function ensureDockerGroup(user: TskUser): void {
  const groups = execFileSync('id', ['-nG', user.name], { encoding: 'utf8' }).trim().split(/\s+/);
  if (!groups.includes('docker')) execFileSync('usermod', ['-aG', 'docker', user.name], { stdio: 'pipe' });
}

/**
 * Run `tsk <args>` (the built binary) as `user`, as that user would from a login: `setpriv` sets the uid,
 * gid and the user's supplementary groups (`docker`). Node's own `uid`/`gid` spawn options would drop
 * every supplementary group, leaving the process without access to the Docker socket. Needs root.
 */
export function runTskAs(user: TskUser, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }): Promise<TskRunResult> {
  const command = ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', process.execPath, TSK_BIN, ...args];
  return outputOf(spawn('setpriv', command, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
}
