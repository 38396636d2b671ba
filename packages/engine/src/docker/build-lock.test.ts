import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireBuildLock, type LockHolder } from './build-lock.js';

describe('acquireBuildLock', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsk-lock-'));
    path = join(dir, 'locks', 'image.lock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function holderRecord(holder: Partial<LockHolder>): Promise<void> {
    const record: LockHolder = { pid: process.pid, host: hostname(), token: 'other', since: new Date().toISOString(), ...holder };
    await mkdir(join(dir, 'locks'), { recursive: true });
    await writeFile(path, JSON.stringify(record));
  }

  /** A pid that certainly belonged to a process that is gone. */
  async function deadPid(): Promise<number> {
    const child = spawn('true');
    await once(child, 'exit');
    return child.pid!;
  }

  it('should create the lock file with our pid and remove it on release, once', async () => {
    const lock = await acquireBuildLock(path);
    expect(lock.waited).toBe(false);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    await lock.release();
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dir, 'locks'))).toEqual([]); // no temporary files left behind
  });

  it('should make a second taker wait until the first releases', async () => {
    const first = await acquireBuildLock(path);
    const onWait = vi.fn();
    let secondAcquired = false;
    const second = acquireBuildLock(path, { pollMs: 20, onWait }).then((lock) => {
      secondAcquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(secondAcquired).toBe(false);
    expect(onWait).toHaveBeenCalledTimes(1);
    expect(onWait.mock.calls[0]![0]).toMatchObject({ pid: process.pid });
    await first.release();
    const lock = await second;
    expect(lock.waited).toBe(true);
    await lock.release();
  });

  it('should wait for a live process of another program and take over when it dies', async () => {
    const sleeper = spawn('sleep', ['30']);
    await holderRecord({ pid: sleeper.pid! });
    const acquired = acquireBuildLock(path, { pollMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    sleeper.kill();
    const lock = await acquired;
    expect(lock.waited).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('should take over a lock whose process is gone without waiting', async () => {
    await holderRecord({ pid: await deadPid() });
    const onWait = vi.fn();
    const lock = await acquireBuildLock(path, { pollMs: 20, onWait });
    expect(lock.waited).toBe(false);
    expect(onWait).not.toHaveBeenCalled();
    await lock.release();
  });

  it('should take over an unreadable lock record', async () => {
    await holderRecord({});
    await writeFile(path, 'garbage');
    const lock = await acquireBuildLock(path, { pollMs: 20 });
    expect(lock.waited).toBe(false);
    await lock.release();
  });

  it('should respect a fresh lock from another host and stop waiting on abort', async () => {
    await holderRecord({ host: 'elsewhere', pid: 1 });
    const controller = new AbortController();
    const acquired = acquireBuildLock(path, { pollMs: 20, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(acquired).rejects.toMatchObject({ name: 'AbortError' });
    expect(JSON.parse(await readFile(path, 'utf8')).host).toBe('elsewhere');
  });

  it('should break a lock from another host once it is older than foreignStaleMs', async () => {
    await holderRecord({ host: 'elsewhere', pid: 1, since: new Date(Date.now() - 60_000).toISOString() });
    const lock = await acquireBuildLock(path, { pollMs: 20, foreignStaleMs: 30_000 });
    expect(lock.waited).toBe(false);
    await lock.release();
  });

  it('should not remove a lock it no longer holds', async () => {
    const lock = await acquireBuildLock(path);
    await writeFile(path, JSON.stringify({ pid: process.pid, host: hostname(), token: 'someone-else', since: '' }));
    await lock.release();
    expect(JSON.parse(await readFile(path, 'utf8')).token).toBe('someone-else');
  });

  it('should let exactly one of many concurrent takers hold the lock at a time', async () => {
    let holders = 0;
    let maxHolders = 0;
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        const lock = await acquireBuildLock(path, { pollMs: 5 });
        holders += 1;
        maxHolders = Math.max(maxHolders, holders);
        await new Promise((resolve) => setTimeout(resolve, 20));
        holders -= 1;
        await lock.release();
      }),
    );
    expect(maxHolders).toBe(1);
  });
});
