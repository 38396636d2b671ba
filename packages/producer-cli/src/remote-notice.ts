import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSink } from '@tsk/engine/core';

/**
 * Say once per remote (a marker under `<dataDir>/remotes`) what a shared remote means for the user's
 * files: a snapshot is the working tree as it is, so untracked files that are not ignored go to the
 * team's server too.
 */
export async function noticeFirstRemoteUse(dataDir: string, url: string, log: LogSink): Promise<void> {
  const dir = join(dataDir, 'remotes');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const marker = join(dir, createHash('sha256').update(url).digest('hex').slice(0, 24));
  try {
    await writeFile(marker, `${url}\n`, { flag: 'wx', mode: 0o600 });
  } catch {
    return;
  }
  log.write(
    'warn',
    `Tasks now travel through ${url}: each snapshot (your uncommitted edits and untracked files that are not ignored) is pushed there as refs/tsk/snapshots/<id>, and results come back as refs/tsk/results/<id> (tsk fetch)`,
  );
}
