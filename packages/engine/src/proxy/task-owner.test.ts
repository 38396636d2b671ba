import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentOwner, localOwnerAlive, ownerMayBeAlive } from './task-owner.js';

describe('ownerMayBeAlive', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('should tell a live process of this host from a dead one', () => {
    expect(ownerMayBeAlive(currentOwner(), '2020-01-01T00:00:00Z', now)).toBe(true);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    expect(ownerMayBeAlive(`${hostname()}/${dead}`, '2026-01-01T11:59:00Z', now)).toBe(false);
  });

  it('should give processes it cannot check (another host, no owner) a grace period from creation', () => {
    expect(ownerMayBeAlive('elsewhere/1', '2026-01-01T11:00:00Z', now)).toBe(true);
    expect(ownerMayBeAlive('elsewhere/1', '2025-12-31T12:00:00Z', now)).toBe(false);
    expect(ownerMayBeAlive(undefined, '2026-01-01T11:00:00Z', now)).toBe(true);
  });
});

describe('localOwnerAlive', () => {
  it('should be true only for a live process of this host', () => {
    expect(localOwnerAlive(currentOwner())).toBe(true);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    expect(localOwnerAlive(`${hostname()}/${dead}`)).toBe(false);
    expect(localOwnerAlive(`elsewhere/${process.pid}`)).toBe(false);
    expect(localOwnerAlive(`${hostname()}/0`)).toBe(false);
    expect(localOwnerAlive('garbage')).toBe(false);
  });
});
