import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removableModules, type Lockfile } from './production-modules.js';

/**
 * `node prune-modules.js <root> <workspace>…`, run while the worker image builds: remove from
 * `<root>/node_modules` every package the workspaces do not need at run time. Offline, from the lockfile
 * alone: the image copies the host's installed modules (nodegit only builds from source, for minutes,
 * from the npm registry) and drops the dev tools with this.
 */
function pruneModules(argv: string[]): void {
  const [root, ...workspaces] = argv;
  if (root === undefined || workspaces.length === 0) throw new Error('usage: prune-modules.js <root> <workspace>…');
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Partial<Lockfile>;
  if (lock.packages === undefined) throw new Error('package-lock.json has no "packages" (lockfile version 2 or later is needed)');
  const removable = removableModules({ packages: lock.packages }, workspaces);
  for (const location of removable) rmSync(join(root, location), { recursive: true, force: true });
  // Links to the removed packages' commands, and npm's record of a tree that is no longer there.
  rmSync(join(root, 'node_modules', '.bin'), { recursive: true, force: true });
  rmSync(join(root, 'node_modules', '.package-lock.json'), { force: true });
  process.stdout.write(`prune-modules: removed ${removable.length} package folders ${workspaces.join(', ')} do not need\n`);
}

pruneModules(process.argv.slice(2));
