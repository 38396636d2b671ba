import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readTextIfExists, removeIfExists, writeFileAtomic } from '../common/atomic-file.js';
import { errorCode } from '../common/error-code.js';

/**
 * When an idle proxy may be removed, kept beside its lock (`<lockDir>/proxy-<fingerprint>.idle`, epoch
 * milliseconds as text). A file rather than a label: labels cannot change on a running container, and
 * `tsk run` is a short process, so whoever looks next (any tsk process of the lock domain, a worker's
 * sweep) must be able to read when the proxy went idle. Written and removed only under the proxy's lock.
 */
export function idleDeadlinePath(lockDir: string, fingerprint: string): string {
  return join(lockDir, `proxy-${fingerprint}.idle`);
}

/** The recorded deadline; undefined when there is none or the file is not one tsk wrote. */
export async function readIdleDeadline(lockDir: string, fingerprint: string): Promise<number | undefined> {
  const text = await readTextIfExists(idleDeadlinePath(lockDir, fingerprint));
  return text === undefined ? undefined : parseDeadline(text);
}

/** Parse a deadline file's text (pure): a whole number of milliseconds, else undefined. */
export function parseDeadline(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,16}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** Record the deadline atomically (a reader never sees half a number). */
export async function writeIdleDeadline(lockDir: string, fingerprint: string, at: number): Promise<void> {
  await writeFileAtomic(idleDeadlinePath(lockDir, fingerprint), `${Math.floor(at)}\n`);
}

/** Forget the deadline (the proxy is in use, or gone); none is fine. */
export async function clearIdleDeadline(lockDir: string, fingerprint: string): Promise<void> {
  await removeIfExists(idleDeadlinePath(lockDir, fingerprint));
}

/** Fingerprints with a recorded deadline at or before `now`: the proxies worth a look under their lock. */
export async function expiredIdleProxies(lockDir: string, now: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(lockDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const expired: string[] = [];
  for (const name of names) {
    const match = /^proxy-([0-9a-f]+)\.idle$/.exec(name);
    if (!match?.[1]) continue;
    const deadline = await readIdleDeadline(lockDir, match[1]).catch(() => undefined);
    if (deadline === undefined || deadline <= now) expired.push(match[1]);
  }
  return expired.sort();
}

/** What to do with a proxy no task uses (pure). */
export type IdleVerdict = { action: 'remove' } | { action: 'keep'; writeDeadline: number | undefined };

export interface IdleVerdictInput {
  /** The recorded deadline, if any (ignored when `fresh`). */
  deadline: number | undefined;
  now: number;
  /** How long an idle proxy stays up from now when no deadline counts; 0 or less removes it at once. */
  idleTimeoutMs: number;
  /** The last task has just left: the clock starts again now, whatever was recorded. */
  fresh?: boolean;
  /** Remove whatever the deadline (`tsk proxy stop`). */
  force?: boolean;
}

/**
 * Keep an idle proxy until its deadline, recording one when there is none (a proxy whose last task
 * died without saying so gets the full timeout from the first look), and remove it after. A deadline
 * recorded by another process of the lock domain is honoured whatever this process's own timeout.
 */
export function idleVerdict(input: IdleVerdictInput): IdleVerdict {
  if (input.force === true) return { action: 'remove' };
  if (input.fresh !== true && input.deadline !== undefined) {
    return input.deadline <= input.now ? { action: 'remove' } : { action: 'keep', writeDeadline: undefined };
  }
  if (input.idleTimeoutMs <= 0) return { action: 'remove' };
  return { action: 'keep', writeDeadline: input.now + input.idleTimeoutMs };
}
