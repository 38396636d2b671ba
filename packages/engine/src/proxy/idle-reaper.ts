import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { folderExists } from '../common/folder-exists.js';
import { readIdleDeadline } from './idle-deadline.js';
import { withProxyLock } from './proxy-lock.js';
import type { ProxyEngine, RetireOptions, RetireOutcome } from './proxy-teardown.js';
import { isIdleReaper, readReaperLease, removeReaperLease, REAPER_SCRIPT_NAME, writeReaperLease } from './reaper-lease.js';

/**
 * A warm proxy left by a short-lived process (`tsk run`, `tsk shell`) needs someone to remove it when its
 * idle deadline passes, even if no tsk process of its lock folder ever runs again. That someone is one
 * small detached process per proxy, the *idle reaper* (`idle-reaper-main.js`): it sleeps until the
 * deadline, then retires the proxy under its lock like any sweep would. Its lease file
 * (`<lockDir>/proxy-<fingerprint>.reaper`) names the one reaper that waits for that proxy, so runs in a
 * row reuse it instead of piling up processes. The lease is written and removed only under the proxy's
 * lock, so "a reaper is waiting" and "the reaper has decided to leave" can never cross.
 */

/** How far past `idleTimeoutMs` a reaper accepts a deadline (clock steps, a slow start), and waits for its lock. */
export const REAPER_MARGIN_MS = 60_000;
/** Sleep this much past a deadline, so the deadline has surely passed when the reaper looks. */
const WAKE_SLACK_MS = 200;

/** The reaper's entry script beside this module in the built engine; undefined when run from sources. */
export function reaperScript(): string | undefined {
  const script = fileURLToPath(new URL(`./${REAPER_SCRIPT_NAME}`, import.meta.url));
  return existsSync(script) ? script : undefined;
}

/** The only variables a reaper gets: how to reach Docker (and, for ssh://, the ssh binary and config). */
const REAPER_ENV = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'PATH', 'HOME', 'SSH_AUTH_SOCK'] as const;

export interface EnsureReaperOptions {
  lockDir: string;
  fingerprint: string;
  idleTimeoutMs: number;
  /** @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Make sure one idle reaper waits for a proxy just left warm. Call with the proxy's lock held. A live
 * reaper with at least this timeout is kept (it re-reads the deadline when it wakes); otherwise a new
 * one is started detached (its own process group, no stdio, not waited for: Ctrl+C on `tsk run` neither
 * reaches nor waits for it) and named in the lease, and the one it replaces leaves when it next wakes.
 * Returns the reaper's pid, or undefined when there is no built script to run.
 */
export async function ensureIdleReaper(options: EnsureReaperOptions): Promise<number | undefined> {
  const { lockDir, fingerprint, idleTimeoutMs } = options;
  const current = await readReaperLease(lockDir, fingerprint).catch(() => undefined);
  if (current && current.host === hostname() && current.idleTimeoutMs >= idleTimeoutMs && (await isIdleReaper(current.pid, fingerprint))) {
    return current.pid;
  }
  const script = reaperScript();
  if (script === undefined) return undefined;
  const source = options.env ?? process.env;
  const env: NodeJS.ProcessEnv = {};
  for (const name of REAPER_ENV) if (source[name] !== undefined) env[name] = source[name];
  const child = spawn(process.execPath, [script, lockDir, fingerprint, String(idleTimeoutMs)], {
    detached: true,
    stdio: 'ignore',
    env,
    cwd: '/',
  });
  child.on('error', () => undefined);
  child.unref();
  if (child.pid === undefined) return undefined;
  await writeReaperLease(lockDir, fingerprint, { pid: child.pid, host: hostname(), idleTimeoutMs });
  return child.pid;
}

/** Why a reaper left. */
export type ReapOutcome = 'removed' | 'in-use' | 'orphan-removed' | 'superseded' | 'beyond-horizon' | 'lock-timeout';

export interface ReapOptions {
  lockDir: string;
  fingerprint: string;
  idleTimeoutMs: number;
  /** @defaultValue Date.now */
  now?: () => number;
  /** @defaultValue process.pid */
  pid?: number;
}

/**
 * The reaper's loop: sleep until the proxy's idle deadline, then, under its lock, remove it if it is
 * still idle and past its (possibly re-written) deadline; sleep again when a later task pushed the
 * deadline. Leaves when the proxy is gone or in use (whoever leaves it warm again starts a reaper), when
 * another reaper took over the lease, or when the deadline lies further than `idleTimeoutMs` plus a
 * margin away (a worker's longer timeout: its sweep removes it): so it never outlives the last deadline
 * it read by more than that. A lock folder that is gone leaves the proxy orphaned: no tsk process can
 * take its lock any more, so the reaper removes it unless a task still uses it. `connect` makes the
 * Docker client, called only once the reaper has something to ask the engine.
 */
export async function reapIdleProxy(connect: () => Promise<ProxyEngine>, options: ReapOptions): Promise<ReapOutcome> {
  let engine: Promise<ProxyEngine> | undefined;
  const engineOnce = () => (engine ??= connect());
  const { lockDir, fingerprint, idleTimeoutMs } = options;
  const now = options.now ?? Date.now;
  const self = options.pid ?? process.pid;
  const horizon = Math.max(0, idleTimeoutMs) + REAPER_MARGIN_MS;
  for (;;) {
    if (!(await folderExists(lockDir))) return reapOrphan(await engineOnce(), lockDir, fingerprint);
    const deadline = await readIdleDeadline(lockDir, fingerprint).catch(() => undefined);
    const wait = deadline === undefined ? 0 : deadline - now();
    if (wait > 0 && wait <= horizon) {
      await sleep(wait + WAKE_SLACK_MS);
      continue;
    }
    if (!(await folderExists(lockDir))) return reapOrphan(await engineOnce(), lockDir, fingerprint);
    let outcome: ReapOutcome | 'again';
    try {
      outcome = await withProxyLock(fingerprint, { lockDir, signal: AbortSignal.timeout(REAPER_MARGIN_MS) }, async () => {
        const lease = await readReaperLease(lockDir, fingerprint).catch(() => undefined);
        if (lease?.pid !== self) return 'superseded';
        const current = await readIdleDeadline(lockDir, fingerprint);
        const left = current === undefined ? 0 : current - now();
        if (left > horizon) {
          await removeReaperLease(lockDir, fingerprint);
          return 'beyond-horizon';
        }
        if (left > 0) return 'again';
        // No deadline: the proxy is in use (or gone), or its last task died without writing one; then
        // retiring gives it the full timeout from now, and the next round waits for that.
        const retired = await retire(await engineOnce(), fingerprint, { lockDir, idleTimeoutMs });
        if (retired === 'kept') return 'again';
        await removeReaperLease(lockDir, fingerprint);
        return retired;
      });
    } catch (error) {
      if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') return 'lock-timeout';
      throw error;
    }
    if (outcome !== 'again') return outcome;
  }
}

/** Remove a proxy whose lock folder is gone, unless a task network is still attached to it. */
async function reapOrphan(engine: ProxyEngine, lockDir: string, fingerprint: string): Promise<ReapOutcome> {
  const retired = await retire(engine, fingerprint, { lockDir, idleTimeoutMs: 0, force: true });
  return retired === 'removed' ? 'orphan-removed' : 'in-use';
}

/**
 * `retireProxyIfIdle`, loaded when first needed: a reaper sleeps most of its life, and the Docker client
 * behind it nearly doubles what a sleeping node process holds in memory.
 */
async function retire(engine: ProxyEngine, fingerprint: string, options: RetireOptions): Promise<RetireOutcome> {
  const { retireProxyIfIdle } = await import('./proxy-teardown.js');
  return retireProxyIfIdle(engine, fingerprint, options);
}
