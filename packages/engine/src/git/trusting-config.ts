import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Why a config file and not just `-c safe.directory=*`: git drops command-line config
 * (GIT_CONFIG_PARAMETERS) when it starts `upload-pack` in another local repository, so a fetch or clone
 * from a workspace owned by the sandbox's uid (or, for a worker under another uid, from the user's
 * repository or its submodules) still dies with "detected dubious ownership". GIT_CONFIG_GLOBAL does
 * reach those processes, and safe.directory is honoured from global config.
 */

/** The global config files git would read (GIT_CONFIG_GLOBAL, else the XDG file then ~/.gitconfig). */
function userGlobalConfigs(env: NodeJS.ProcessEnv): string[] {
  if (env.GIT_CONFIG_GLOBAL) return [env.GIT_CONFIG_GLOBAL];
  const home = env.HOME || homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, '.config');
  return [join(xdg, 'git', 'config'), join(home, '.gitconfig')];
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Config text that includes the user's own global config (git skips missing includes) and trusts all. */
export function trustingConfigText(env: NodeJS.ProcessEnv): string {
  const includes = userGlobalConfigs(env).map((path) => `[include]\n\tpath = ${quote(path)}\n`);
  return `${includes.join('')}[safe]\n\tdirectory = *\n`;
}

/**
 * Run `fn` with the path of a global config file built by {@link trustingConfigText}; pass it as
 * GIT_CONFIG_GLOBAL. The file lives in a fresh private directory (a config file can run commands, so it
 * must never sit where another user could plant one) and is removed when `fn` settles.
 */
export async function withTrustingConfig<T>(env: NodeJS.ProcessEnv, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tsk-git-'));
  try {
    const path = join(dir, 'gitconfig');
    await writeFile(path, trustingConfigText(env), { mode: 0o600 });
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
