import { tryGit } from './git-cli.js';

/** Who commits: `user.name` and `user.email`. */
export interface GitIdentity {
  name: string;
  email: string;
}

/** Used when the host has no git identity, so commits made by tsk or in the sandbox still work. */
export const FALLBACK_IDENTITY: GitIdentity = { name: 'tsk', email: 'tsk@localhost' };

async function configValue(key: string, cwd: string, trustRepository: boolean): Promise<string | undefined> {
  const value = (await tryGit(['config', '--get', key], { cwd, trustRepository }))?.trim();
  return value ? value : undefined;
}

/**
 * The identity git would use in `cwd` (its local config, then global and system), each field falling back
 * to {@link FALLBACK_IDENTITY} on its own.
 */
export async function hostIdentity(cwd: string, trustRepository = false): Promise<GitIdentity> {
  const [name, email] = await Promise.all([
    configValue('user.name', cwd, trustRepository),
    configValue('user.email', cwd, trustRepository),
  ]);
  return { name: name ?? FALLBACK_IDENTITY.name, email: email ?? FALLBACK_IDENTITY.email };
}
