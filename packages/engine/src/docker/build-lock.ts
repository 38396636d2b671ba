import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from '../common/error-code.js';
import { processAlive } from '../common/process-alive.js';

/** Who holds a lock file: written once, atomically, when the lock is taken. */
export interface LockHolder {
  pid: number;
  host: string;
  token: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface BuildLockOptions {
  signal?: AbortSignal;
  /** How often a waiter looks at the lock again. @defaultValue 500 */
  pollMs?: number;
  /**
   * A lock taken on another host (or in another container: pids are not comparable there) is stale after
   * this long. Locks from this host are stale as soon as their process is gone. @defaultValue 7_200_000
   */
  foreignStaleMs?: number;
  /** Called once, when the lock is found held by someone else and we start waiting. */
  onWait?: (holder: LockHolder | undefined) => void;
}

/** A held lock. `release()` may be called more than once. */
export interface BuildLock {
  readonly path: string;
  /** Whether someone else held the lock when we asked for it (their work may have made ours unnecessary). */
  readonly waited: boolean;
  release(): Promise<void>;
}

/**
 * Take a cross-process lock by creating `path` exclusively. The holder record is written to a temporary
 * file and hard-linked into place, so the lock file never exists half-written. A lock whose process died
 * (same host) is broken and taken over; otherwise we poll until it is released or `signal` aborts.
 *
 * Breaking a stale lock renames it aside and checks it was still the stale one before deleting it, so two
 * waiters breaking the same stale lock cannot delete each other's fresh lock (short of a pid being reused
 * within one poll). The image builder re-checks for the image after locking, so even that race only costs
 * a redundant build.
 */
export async function acquireBuildLock(path: string, options: BuildLockOptions = {}): Promise<BuildLock> {
  const { signal, pollMs = 500, foreignStaleMs = 7_200_000 } = options;
  await mkdir(dirname(path), { recursive: true });
  const holder: LockHolder = { pid: process.pid, host: hostname(), token: randomUUID(), since: new Date().toISOString() };
  const record = JSON.stringify(holder);
  let waited = false;
  for (;;) {
    signal?.throwIfAborted();
    if (await tryCreate(path, record)) return heldLock(path, holder.token, waited);
    const current = await readRecord(path);
    if (current === undefined) continue; // released between our attempt and the read
    const other = parseHolder(current);
    // Records are written atomically, so one we cannot parse was not written by a live tsk.
    if (other === undefined || isStale(other, foreignStaleMs)) {
      await breakStaleLock(path, current);
      continue;
    }
    if (!waited) options.onWait?.(other);
    waited = true;
    await sleep(pollMs, undefined, { signal });
  }
}

async function tryCreate(path: string, record: string): Promise<boolean> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, record, { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function heldLock(path: string, token: string, waited: boolean): BuildLock {
  let released: Promise<void> | undefined;
  return {
    path,
    waited,
    release: () => {
      released ??= (async () => {
        // Only remove our own record: if ours was (wrongly) broken, the file now belongs to someone else.
        const current = await readRecord(path);
        if (current !== undefined && parseHolder(current)?.token === token) await unlink(path).catch(ignoreMissing);
      })();
      return released;
    },
  };
}

async function breakStaleLock(path: string, staleRecord: string): Promise<void> {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    ignoreMissing(error); // someone else broke or released it first
    return;
  }
  const moved = await readRecord(aside);
  if (moved !== staleRecord) {
    // We moved a fresh lock that replaced the stale one after we read it: put it back unless the path
    // has been taken again meanwhile.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(ignoreMissing);
}

function isStale(holder: LockHolder, foreignStaleMs: number): boolean {
  if (holder.host === hostname()) return !processAlive(holder.pid);
  const since = Date.parse(holder.since);
  return Number.isNaN(since) || Date.now() - since > foreignStaleMs;
}

async function readRecord(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    ignoreMissing(error);
    return undefined;
  }
}

function parseHolder(record: string): LockHolder | undefined {
  try {
    const value: unknown = JSON.parse(record);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, host, token, since } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string' || typeof token !== 'string' || typeof since !== 'string') {
      return undefined;
    }
    return { pid, host, token, since };
  } catch {
    return undefined;
  }
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}
