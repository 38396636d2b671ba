import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clearIdleDeadline,
  expiredIdleProxies,
  idleDeadlinePath,
  idleVerdict,
  parseDeadline,
  readIdleDeadline,
  writeIdleDeadline,
} from './idle-deadline.js';

describe('idleVerdict', () => {
  const now = 1_000_000;

  it('should keep a proxy whose last task just left for the timeout, and remove it at once with 0', () => {
    expect(idleVerdict({ deadline: undefined, now, idleTimeoutMs: 600_000, fresh: true })).toEqual({ action: 'keep', writeDeadline: now + 600_000 });
    expect(idleVerdict({ deadline: now + 5, now, idleTimeoutMs: 600_000, fresh: true })).toEqual({ action: 'keep', writeDeadline: now + 600_000 });
    expect(idleVerdict({ deadline: undefined, now, idleTimeoutMs: 0, fresh: true })).toEqual({ action: 'remove' });
  });

  it('should remove a proxy past its deadline and keep one before it, whatever the looker’s own timeout', () => {
    expect(idleVerdict({ deadline: now, now, idleTimeoutMs: 600_000 })).toEqual({ action: 'remove' });
    expect(idleVerdict({ deadline: now + 1, now, idleTimeoutMs: 0 })).toEqual({ action: 'keep', writeDeadline: undefined });
  });

  it('should start the clock for an idle proxy without a deadline (its last task died), or remove it with 0', () => {
    expect(idleVerdict({ deadline: undefined, now, idleTimeoutMs: 60_000 })).toEqual({ action: 'keep', writeDeadline: now + 60_000 });
    expect(idleVerdict({ deadline: undefined, now, idleTimeoutMs: 0 })).toEqual({ action: 'remove' });
  });

  it('should remove whatever the deadline when forced (tsk proxy stop)', () => {
    expect(idleVerdict({ deadline: now + 600_000, now, idleTimeoutMs: 600_000, force: true })).toEqual({ action: 'remove' });
  });
});

describe('idle deadline files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsk-idle-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('should write, read and clear a deadline, and list only the expired or unreadable ones', async () => {
    await writeIdleDeadline(dir, 'aa11', 5_000);
    await writeIdleDeadline(dir, 'bb22', 50_000);
    await writeFile(idleDeadlinePath(dir, 'cc33'), 'not a time');
    await writeFile(join(dir, 'proxy-dd44.lock'), '{}');
    expect(await readIdleDeadline(dir, 'aa11')).toBe(5_000);
    expect(await readFile(idleDeadlinePath(dir, 'aa11'), 'utf8')).toBe('5000\n');
    expect(await readIdleDeadline(dir, 'cc33')).toBeUndefined();
    expect(await expiredIdleProxies(dir, 10_000)).toEqual(['aa11', 'cc33']);
    await clearIdleDeadline(dir, 'aa11');
    await clearIdleDeadline(dir, 'aa11');
    expect(await readIdleDeadline(dir, 'aa11')).toBeUndefined();
    expect(await expiredIdleProxies(join(dir, 'missing'), 10_000)).toEqual([]);
  });

  it('should read only whole numbers as deadlines', () => {
    expect(parseDeadline(' 42\n')).toBe(42);
    expect(parseDeadline('-1')).toBeUndefined();
    expect(parseDeadline('1e9')).toBeUndefined();
    expect(parseDeadline('')).toBeUndefined();
  });
});
