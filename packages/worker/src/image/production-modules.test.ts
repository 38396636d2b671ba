import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { removableModules, resolveDependency, runtimeLocations, type Lockfile } from './production-modules.js';

const lock: Lockfile = {
  packages: {
    '': { dependencies: {} },
    'packages/app': { dependencies: { '@my/lib': '1.0.0', shared: '^1' } },
    'packages/lib': { dependencies: { shared: '^2', 'uses-peer': '^1' }, optionalDependencies: { 'only-on-mac': '^1' } },
    'packages/cli': { dependencies: { 'cli-only': '^1' } },
    'node_modules/@my/lib': { link: true, resolved: 'packages/lib' },
    'node_modules/@my/cli': { link: true, resolved: 'packages/cli' },
    'node_modules/shared': {},
    'packages/lib/node_modules/shared': { dependencies: { deep: '^1' } },
    'node_modules/deep': {},
    'node_modules/uses-peer': { peerDependencies: { peer: '*', 'optional-peer': '*' }, peerDependenciesMeta: { 'optional-peer': { optional: true } } },
    'node_modules/peer': {},
    'node_modules/cli-only': { dependencies: { nested: '^1' } },
    'node_modules/cli-only/node_modules/nested': {},
    'packages/cli/node_modules/shared': {},
    'node_modules/typescript': {},
  },
};

describe('runtime modules from package-lock.json', () => {
  it('resolves as Node does: nested node_modules first, then each level up to the root', () => {
    expect(resolveDependency(lock, 'packages/lib', 'shared')).toBe('packages/lib/node_modules/shared');
    expect(resolveDependency(lock, 'packages/app', 'shared')).toBe('node_modules/shared');
    expect(resolveDependency(lock, 'packages/lib/node_modules/shared', 'deep')).toBe('node_modules/deep');
    expect(resolveDependency(lock, 'node_modules/cli-only', 'nested')).toBe('node_modules/cli-only/node_modules/nested');
    expect(resolveDependency(lock, 'node_modules/shared', 'nested')).toBeUndefined();
  });

  it('keeps what a workspace needs through links, peers and nested copies, and nothing else', () => {
    expect([...runtimeLocations(lock, ['packages/app'])].sort()).toEqual([
      'node_modules/@my/lib',
      'node_modules/deep',
      'node_modules/peer',
      'node_modules/shared',
      'node_modules/uses-peer',
      'packages/app',
      'packages/lib',
      'packages/lib/node_modules/shared',
    ]);
    // Another workspace's link, its dependencies (nested ones once) and dev tools go.
    expect(removableModules(lock, ['packages/app'])).toEqual([
      'node_modules/@my/cli',
      'node_modules/cli-only',
      'node_modules/typescript',
      'packages/cli/node_modules/shared',
    ]);
  });

  it('refuses a lockfile that lacks a required dependency, and passes over a missing optional one', () => {
    const broken: Lockfile = { packages: { 'packages/app': { dependencies: { gone: '^1' }, optionalDependencies: { maybe: '^1' } } } };
    expect(() => runtimeLocations(broken, ['packages/app'])).toThrow('packages/app needs gone, which package-lock.json does not have');
    expect(() => runtimeLocations(lock, ['packages/nope'])).toThrow('packages/nope is not in package-lock.json');
  });

  it("keeps the worker's runtime modules of this repository's lockfile and drops the dev and CLI tools", () => {
    const root = resolve(fileURLToPath(import.meta.url), '../../../../..');
    const real = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as Lockfile;
    const keep = runtimeLocations(real, ['packages/worker']);
    // smol-toml: the engine's own copy in packages/engine/node_modules.
    for (const needed of ['node_modules/@tsk/engine', 'packages/engine', 'packages/engine/node_modules/smol-toml', 'node_modules/nodegit', 'node_modules/bullmq', 'node_modules/ioredis', 'node_modules/dockerode']) {
      expect(keep.has(needed), needed).toBe(true);
    }
    const removed = removableModules(real, ['packages/worker']);
    for (const tool of ['node_modules/typescript', 'node_modules/vitest', 'node_modules/lerna', 'node_modules/@oclif/core', 'node_modules/testcontainers', 'node_modules/@tsk/producer-cli']) {
      expect(removed, tool).toContain(tool);
    }
  });
});

describe('the build context of the worker image (/.dockerignore)', () => {
  it('leaves out none of the modules the worker needs', () => {
    const root = resolve(fileURLToPath(import.meta.url), '../../../../..');
    const real = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as Lockfile;
    const needed = [...runtimeLocations(real, ['packages/worker'])].filter((location) => location.startsWith('node_modules/'));
    const leftOut = readFileSync(resolve(root, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('node_modules/'))
      // `node_modules/lightningcss*` → a prefix; `node_modules/.*` (caches) never names a package.
      .map((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`));
    expect(leftOut.length).toBeGreaterThan(5);
    for (const location of needed) {
      expect(leftOut.filter((pattern) => pattern.test(location)).map(String), location).toEqual([]);
    }
    // The one file of nodegit's build that is needed is put back after its folder is left out.
    expect(readFileSync(resolve(root, '.dockerignore'), 'utf8')).toContain('!node_modules/nodegit/build/Release/nodegit.node');
  });
});
