import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readTextIfExists, removeIfExists, writeFileAtomic } from '../common/atomic-file.js';
import { processAlive } from '../common/process-alive.js';

/**
 * The lease of a proxy's idle reaper (see `idle-reaper.ts`): `<lockDir>/proxy-<fingerprint>.reaper` names
 * the one reaper process that waits for that proxy. Written and removed only under the proxy's lock.
 */

/** The reaper's entry script's file name (also how its command line is recognised). */
export const REAPER_SCRIPT_NAME = 'idle-reaper-main.js';

/** The file naming the reaper waiting for one proxy. */
export function reaperLeasePath(lockDir: string, fingerprint: string): string {
  return join(lockDir, `proxy-${fingerprint}.reaper`);
}

/** What the lease records. */
export interface ReaperLease {
  pid: number;
  host: string;
  /** The reaper's `idle_timeout`: deadlines further away than this (plus a margin) are not its to wait for. */
  idleTimeoutMs: number;
}

export async function readReaperLease(lockDir: string, fingerprint: string): Promise<ReaperLease | undefined> {
  const text = await readTextIfExists(reaperLeasePath(lockDir, fingerprint));
  return text === undefined ? undefined : parseReaperLease(text);
}

/** Parse a lease file's text (pure); undefined when it is not one tsk wrote. */
export function parseReaperLease(text: string): ReaperLease | undefined {
  try {
    const value = JSON.parse(text) as Partial<ReaperLease>;
    if (!Number.isSafeInteger(value.pid) || (value.pid ?? 0) <= 0) return undefined;
    if (typeof value.host !== 'string' || !Number.isFinite(value.idleTimeoutMs)) return undefined;
    return { pid: value.pid!, host: value.host, idleTimeoutMs: value.idleTimeoutMs! };
  } catch {
    return undefined;
  }
}

export async function writeReaperLease(lockDir: string, fingerprint: string, lease: ReaperLease): Promise<void> {
  await writeFileAtomic(reaperLeasePath(lockDir, fingerprint), JSON.stringify(lease));
}

export async function removeReaperLease(lockDir: string, fingerprint: string): Promise<void> {
  await removeIfExists(reaperLeasePath(lockDir, fingerprint));
}

/**
 * Whether `pid` is (still) the idle reaper of `fingerprint`. Where /proc exists its command line must
 * say so, so a reused pid (or a zombie, whose command line is empty) is not mistaken for it; elsewhere
 * the process merely being alive counts.
 */
export async function isIdleReaper(pid: number, fingerprint: string): Promise<boolean> {
  if (!processAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return args.some((arg) => arg.endsWith(REAPER_SCRIPT_NAME)) && args.includes(fingerprint);
  } catch {
    return false;
  }
}

/**
 * Forget the reaper of a proxy that is gone: remove its lease and stop it (when it is verifiably that
 * reaper, and not this process). Call with the proxy's lock held.
 */
export async function dismissIdleReaper(lockDir: string, fingerprint: string): Promise<void> {
  const lease = await readReaperLease(lockDir, fingerprint).catch(() => undefined);
  await removeReaperLease(lockDir, fingerprint);
  if (!lease || lease.pid === process.pid || lease.host !== hostname()) return;
  if (existsSync('/proc/self/cmdline') && (await isIdleReaper(lease.pid, fingerprint))) {
    try {
      process.kill(lease.pid, 'SIGTERM');
    } catch {
      // Gone already.
    }
  }
}

