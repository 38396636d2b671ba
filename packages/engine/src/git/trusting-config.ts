import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Why a config file and not just `-c safe.directory=*`: git drops command-line config
 * (GIT_CONFIG_PARAMETERS) when it starts `upload-pack` in another local repository, so a fetch or clone
 * from a workspace owned by the sandbox's uid (or, for a worker under another uid, from the user's
 * repository or its submodules) still dies with "detected dubious ownership". GIT_CONFIG_GLOBAL does
 * reach those processes, and safe.directory is honoured from global config.
 */

/** One private directory per process (mode 0700 from mkdtemp): a config file can run commands, so it must
 * never live where another user could have planted it. */
let privateDir: string | undefined;
const files = new Map<string, Promise<string>>();

function configDir(): string {
  if (privateDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tsk-git-'));
    privateDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return privateDir;
}

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

/**
 * A global config file that includes the user's own global config (git ignores missing includes) and adds
 * `safe.directory = *`. Pass it as GIT_CONFIG_GLOBAL; the file lives until this process exits.
 */
export function trustingGlobalConfig(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const content =
    userGlobalConfigs(env)
      .map((path) => `[include]\n\tpath = ${quote(path)}\n`)
      .join('') + '[safe]\n\tdirectory = *\n';
  let file = files.get(content);
  if (file === undefined) {
    const path = join(configDir(), `gitconfig-${createHash('sha256').update(content).digest('hex').slice(0, 16)}`);
    file = writeFile(path, content, { mode: 0o600 }).then(
      () => path,
      (error: unknown) => {
        files.delete(content);
        throw error;
      },
    );
    files.set(content, file);
  }
  return file;
}
