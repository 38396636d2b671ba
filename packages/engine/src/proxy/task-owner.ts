import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { processAlive } from '../common/process-alive.js';

/** How long a task network of a process on another host (or container) may sit unused before it counts as left over. */
const FOREIGN_OWNER_GRACE_MS = 6 * 3600_000;

/**
 * The processes a proxy may be shared with: those of the same OS user that lock in the same folder (see
 * `LABEL_LOCKS`). Two folders of one user (another TSK_DATA_HOME, a worker with its own TSK_LOCK_DIR)
 * are two domains, each with its own proxies.
 */
export function lockDomain(lockDir: string, uid: number = process.getuid?.() ?? 0): string {
  return createHash('sha256').update(`${uid}\0${lockDir}`).digest('hex').slice(0, 12);
}

/** `<host>/<pid>` of this process: recorded on the task networks it creates. */
export function currentOwner(): string {
  return `${hostname()}/${process.pid}`;
}

/**
 * Whether the process that created a task network may still be using it. On this host that is whether
 * the process lives; a process elsewhere cannot be checked, so its network counts as live for a grace
 * period after its creation. A network without a readable owner is treated like a foreign one.
 */
export function ownerMayBeAlive(owner: string | undefined, createdIso: string, now: number = Date.now()): boolean {
  const pid = owner === undefined ? undefined : pidOnThisHost(owner);
  if (pid !== undefined) return processAlive(pid);
  const created = Date.parse(createdIso);
  return Number.isNaN(created) || now - created < FOREIGN_OWNER_GRACE_MS;
}

/** Whether `<host>/<pid>` names a live process of this host (an owner elsewhere cannot be checked: false). */
export function localOwnerAlive(owner: string): boolean {
  const pid = pidOnThisHost(owner);
  return pid !== undefined && pid > 0 && processAlive(pid);
}

/** The pid of a `<host>/<pid>` owner on this host; undefined for another host or an unreadable owner. */
function pidOnThisHost(owner: string): number | undefined {
  const match = /^(.*)\/(\d+)$/.exec(owner);
  return match !== null && match[1] === hostname() ? Number(match[2]) : undefined;
}
