import { mkdir, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../common/error-code.js';
import { isTaskId } from '../common/ids.js';

/** How long a task may wait in the queue before workers refuse it, and so how long the ledger remembers. */
export const MAX_JOB_AGE_MS = 30 * 24 * 3600_000;

/** What the ledger says about a task about to run. */
export type LedgerEntry = 'new' | 'started' | 'finished';

/**
 * This machine's record of the tasks it has run, kept on its own disk because Redis cannot be trusted to
 * say: anyone with write access can put an old signed job back on the queue and rewrite its record. One
 * file per task id, created exclusively, so two workers of one machine never both take the same id. A
 * task id runs at most once here (a run that was cut short by a lost worker may be resumed when
 * re-queueing is the policy). Entries older than {@link MAX_JOB_AGE_MS} are pruned: jobs that old are
 * refused anyway.
 */
export class RunLedger {
  constructor(private readonly dir: string) {}

  /**
   * Record that `taskId` starts here. Returns what the ledger knew before: `new` (recorded now), or
   * `started` / `finished` when this machine already ran it (nothing is recorded then).
   */
  async begin(taskId: string): Promise<LedgerEntry> {
    if (!isTaskId(taskId)) throw new Error(`not a task id: ${taskId.slice(0, 40)}`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, taskId);
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`started ${new Date().toISOString()}\n`);
      await handle.close();
      return 'new';
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    return text.startsWith('finished') ? 'finished' : 'started';
  }

  async finish(taskId: string): Promise<void> {
    if (!isTaskId(taskId)) return;
    await writeFile(join(this.dir, taskId), `finished ${new Date().toISOString()}\n`, { mode: 0o600 });
  }

  /** Forget entries older than the longest a job may wait. */
  async prune(now = Date.now()): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names.filter(isTaskId)) {
      const info = await stat(join(this.dir, name)).catch(() => undefined);
      if (info && now - info.mtimeMs > MAX_JOB_AGE_MS + 24 * 3600_000) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }
}
