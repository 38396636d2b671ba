import { homedir } from 'node:os';
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
