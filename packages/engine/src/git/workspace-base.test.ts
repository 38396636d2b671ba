import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-utils/git-fixtures.js';
import { pruneWorkspaceBases, workspaceBasesDir } from './workspace-base.js';

/** A base as ensureWorkspaceBase leaves it: the checkout, its last use, and leases. */
function base(dataDir: string, key: string, usedAgoMs: number, leases: Record<string, number> = {}): string {
  const bases = workspaceBasesDir(dataDir);
  mkdirSync(join(bases, key, '.git'), { recursive: true });
  writeFileSync(join(bases, key, 'file.txt'), 'x');
  const used = join(bases, `${key}.used`);
  writeFileSync(used, '');
  const at = new Date(Date.now() - usedAgoMs);
  utimesSync(used, at, at);
  mkdirSync(join(bases, `${key}.leases`), { recursive: true });
  for (const [id, pid] of Object.entries(leases)) writeFileSync(join(bases, `${key}.leases`, id), JSON.stringify({ pid, host: hostname() }));
  return join(bases, key);
}

const key = (n: number) => n.toString(16).padStart(32, '0');
const HOUR = 60 * 60 * 1000;

describe('pruneWorkspaceBases', () => {
  it('removes idle bases nobody holds, keeps recent ones and those a live task holds', async () => {
    const dataDir = await tempDir();
    const recent = base(dataDir, key(1), 60_000);
    const idle = base(dataDir, key(2), 2 * HOUR);
    const held = base(dataDir, key(3), 2 * HOUR, { Task0001: process.pid });
    const staleLease = base(dataDir, key(4), 2 * HOUR, { Task0002: 2 ** 22 + 12345 });
    expect(await pruneWorkspaceBases(dataDir)).toBe(2);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(idle)).toBe(false);
    expect(existsSync(held)).toBe(true);
    expect(existsSync(staleLease)).toBe(false);
  });

  it('keeps at most maxBases, the most recently used; with idleMs 0 (tsk clean) every base nobody holds goes', async () => {
    const dataDir = await tempDir();
    const dirs = [1, 2, 3].map((n) => base(dataDir, key(n), n * 60_000));
    expect(await pruneWorkspaceBases(dataDir, { maxBases: 2 })).toBe(1);
    expect(dirs.map((dir) => existsSync(dir))).toEqual([true, true, false]);
    expect(await pruneWorkspaceBases(dataDir, { idleMs: 0, maxBases: 0 })).toBe(2);
    expect(dirs.map((dir) => existsSync(dir))).toEqual([false, false, false]);
  });
});
