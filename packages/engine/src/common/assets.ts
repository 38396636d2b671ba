import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding tsk's built-in `templates/`, `dockerfiles/` and `squid/`: the repository root in a
 * checkout, or `TSK_ASSETS_DIR` when tsk is installed elsewhere (the worker image sets it).
 */
export function assetsRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSK_ASSETS_DIR) return resolve(env.TSK_ASSETS_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'dockerfiles')) && existsSync(join(dir, 'templates'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('tsk assets (templates/, dockerfiles/) not found; set TSK_ASSETS_DIR');
    dir = up;
  }
}
