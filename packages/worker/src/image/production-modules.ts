/** One entry of `package-lock.json`'s `packages` (lockfile v2/v3): what the pruning needs of it. */
export interface LockPackage {
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface Lockfile {
  lockfileVersion?: number;
  packages: Record<string, LockPackage>;
}

const MODULES = 'node_modules/';

/** The location Node would load `name` from when `location` requires it, as recorded in the lockfile. */
export function resolveDependency(lock: Lockfile, location: string, name: string): string | undefined {
  let from = location;
  for (;;) {
    const candidate = from === '' ? `${MODULES}${name}` : `${from}/${MODULES}${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (from === '') return undefined;
    // One node_modules level up: `node_modules/a/node_modules/b` → `node_modules/a`; a workspace or a
    // top-level package → the root.
    const cut = from.lastIndexOf(`/${MODULES}`);
    from = cut < 0 ? '' : from.slice(0, cut);
  }
}

function dependenciesOf(entry: LockPackage): { name: string; optional: boolean }[] {
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...Object.keys(entry.peerDependencies ?? {}).map((name) => ({ name, optional: optionalPeers[name]?.optional === true })),
  ];
}

/**
 * Every lockfile location `roots` (workspace folders such as `packages/worker`) need at run time: their
 * dependencies, followed through workspace links, as Node resolves them. Dev dependencies of any
 * package are never followed (the lockfile does not even list them for installed packages).
 *
 * @throws Error naming the package when a required dependency is missing from the lockfile.
 */
export function runtimeLocations(lock: Lockfile, roots: readonly string[]): Set<string> {
  const keep = new Set<string>();
  const pending = [...roots];
  for (let location = pending.pop(); location !== undefined; location = pending.pop()) {
    if (keep.has(location)) continue;
    const entry = lock.packages[location];
    if (entry === undefined) throw new Error(`${location} is not in package-lock.json`);
    keep.add(location);
    if (entry.link === true) {
      if (entry.resolved !== undefined) pending.push(entry.resolved);
      continue;
    }
    for (const { name, optional } of dependenciesOf(entry)) {
      const found = resolveDependency(lock, location, name);
      if (found !== undefined) pending.push(found);
      // A missing optional dependency is one npm skipped on this platform; a missing required one is a
      // lockfile npm itself would not install.
      else if (!optional) throw new Error(`${location} needs ${name}, which package-lock.json does not have`);
    }
  }
  return keep;
}

/**
 * The installed folders of the lockfile (`node_modules/…`, and a workspace's own `packages/x/node_modules/…`)
 * that none of `roots` needs, outermost first and without folders inside another one listed (removing the
 * outer one removes them).
 */
export function removableModules(lock: Lockfile, roots: readonly string[]): string[] {
  const keep = runtimeLocations(lock, roots);
  const removable = Object.keys(lock.packages)
    .filter((location) => (location.startsWith(MODULES) || location.includes(`/${MODULES}`)) && !keep.has(location))
    .sort();
  return removable.filter((location, index) => {
    const previous = removable.slice(0, index);
    return !previous.some((outer) => location.startsWith(`${outer}/`));
  });
}
