import { mkdir, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../common/error-code.js';
import { isTaskId } from '../common/ids.js';

/** How long a task may wait in the queue before workers refuse it, and so how long the ledger remembers. */
export const MAX_JOB_AGE_MS = 30 * 24 * 3600_000;

/**
 * What the ledger says about a task about to run: `new` (recorded now), `resumed` (this machine put it
 * back in the queue rate limited, and this is the one run again that allows; recorded now), or `started`
 * / `finished` when this machine already ran it (nothing is recorded then).
 */
export type LedgerEntry = 'new' | 'resumed' | 'started' | 'finished';

/** The suffix of the file that allows one run again after a delay. */
const RESUME = '.resume';

/**
 * This machine's record of the tasks it has run, kept on its own disk because Redis cannot be trusted to
 * say: anyone with write access can put an old signed job back on the queue and rewrite its record. One
 * file per task id, created exclusively, so two workers of one machine never both take the same id. A
 * task id runs at most once here (a run that was cut short by a lost worker may be resumed when
 * re-queueing is the policy), except that a task this machine itself put back in the queue rate limited
 * ({@link delayed}) may run once more per delay: the delay leaves a token file beside the entry, and the
 * run that removes it (unlink: only one can) is the one allowed. A record rewritten to DELAYED allows
 * nothing: only this disk counts. Entries older than {@link MAX_JOB_AGE_MS} are pruned: jobs that old are
 * refused anyway.
 */
export class RunLedger {
  constructor(private readonly dir: string) {}

  /** Record that `taskId` starts here, and say what the ledger knew before (see {@link LedgerEntry}). */
  async begin(taskId: string): Promise<LedgerEntry> {
    const path = this.entry(taskId);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`started ${new Date().toISOString()}\n`);
      await handle.close();
      return 'new';
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.startsWith('finished')) return 'finished';
    if (!text.startsWith('delayed')) return 'started';
    try {
      await unlink(path + RESUME);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 'started';
      throw error;
    }
    await writeFile(path, `started ${new Date().toISOString()}\ndelays ${delaysIn(text)}\n`, { mode: 0o600 });
    return 'resumed';
  }

  /**
   * This machine put `taskId` back in the queue rate limited, for the `delays`-th time: it may run here
   * once more. Written before the job leaves the worker.
   */
  async delayed(taskId: string, delays: number): Promise<void> {
    const path = this.entry(taskId);
    await writeFile(path, `delayed ${new Date().toISOString()}\ndelays ${delays}\n`, { mode: 0o600 });
    await writeFile(path + RESUME, `${delays}\n`, { mode: 0o600 });
  }

  /** How many times this machine put `taskId` back in the queue rate limited (0 when never, or unknown). */
  async delays(taskId: string): Promise<number> {
    return delaysIn(await readFile(this.entry(taskId), 'utf8').catch(() => ''));
  }

  async finish(taskId: string): Promise<void> {
    if (!isTaskId(taskId)) return;
    await writeFile(join(this.dir, taskId), `finished ${new Date().toISOString()}\n`, { mode: 0o600 });
  }

  /** Forget entries (and resume tokens) older than the longest a job may wait. */
  async prune(now = Date.now()): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter((name) => isTaskId(name.endsWith(RESUME) ? name.slice(0, -RESUME.length) : name))) {
      const info = await stat(join(this.dir, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > MAX_JOB_AGE_MS + 24 * 3600_000) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  private entry(taskId: string): string {
    if (!isTaskId(taskId)) throw new Error(`not a task id: ${taskId.slice(0, 40)}`);
    return join(this.dir, taskId);
  }
}

/** The `delays <n>` line of an entry, or 0. */
function delaysIn(text: string): number {
  const match = /^delays ([0-9]{1,6})$/m.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}
