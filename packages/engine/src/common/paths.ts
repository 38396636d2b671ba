import { chmod, mkdir } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TskDirs {
  /** `$TSK_CONFIG_HOME/tsk`, else `$XDG_CONFIG_HOME/tsk`, else `~/.config/tsk`. */
  configDir: string;
  /** `$TSK_DATA_HOME/tsk`, else `$XDG_DATA_HOME/tsk`, else `~/.local/share/tsk`. */
  dataDir: string;
  /** `$TSK_RUNTIME_DIR/tsk`, else `$XDG_RUNTIME_DIR/tsk`, else `<dataDir>/run`. */
  runtimeDir: string;
}

/** tsk's own directories, from the TSK_* variables with XDG fallbacks (SPEC §3). */
export function tskDirs(env: NodeJS.ProcessEnv = process.env): TskDirs {
  const home = env.HOME || homedir();
  const configDir = join(env.TSK_CONFIG_HOME || env.XDG_CONFIG_HOME || join(home, '.config'), 'tsk');
  const dataDir = join(env.TSK_DATA_HOME || env.XDG_DATA_HOME || join(home, '.local', 'share'), 'tsk');
  const runtimeBase = env.TSK_RUNTIME_DIR || env.XDG_RUNTIME_DIR;
  const runtimeDir = runtimeBase ? join(runtimeBase, 'tsk') : join(dataDir, 'run');
  return { configDir, dataDir, runtimeDir };
}

/**
 * Where the locks on Docker objects that every tsk process of this machine shares (image builds, proxies)
 * live: `$TSK_LOCK_DIR`, else `<tmpdir>/tsk-locks`, created when missing. Deliberately not under the
 * runtime dir: a CLI in a login shell and a worker started by systemd see different XDG_RUNTIME_DIRs
 * but use one Docker engine, and their locks must meet. The folder is open to every local user, since
 * any of them may run tsk against the same engine.
 */
export async function ensureDockerLockDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = env.TSK_LOCK_DIR || join(tmpdir(), 'tsk-locks');
  await mkdir(dir, { recursive: true });
  // mkdir applies the umask; the first user to create it opens it up for the others.
  await chmod(dir, 0o777).catch(() => undefined);
  return dir;
}
