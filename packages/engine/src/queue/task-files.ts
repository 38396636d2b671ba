import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { isTaskId } from '../common/ids.js';
import { taskDir, taskLogFile } from '../common/task-paths.js';
import { tmpdir } from 'node:os';
import { deleteRemoteTaskRefs } from '../git/remote.js';
import { log as debug } from '../logging/index.js';
import { openSignedJob, peekJob, type KeyRing } from '../signing/index.js';
import type { TaskQueue } from './task-queue.js';

/** Where a task's leftovers are: this machine's data folder, and the keys that say which remote a job really named. */
export interface TaskCleanup {
  dataDir: string;
  /**
   * A task's refs on its shared remote are removed only when its job verifies against these keys: a
   * rewritten job must not turn a delete into a push, with the user's credentials, to a URL of its
   * choosing. @defaultValue no remote clean-up
   */
  ring?: KeyRing;
}

/**
 * Remove what a task left: its workspace and log file under `dataDir`, its snapshot ref when the origin
 * repository is here, and its snapshot and result refs on its shared remote (see {@link TaskCleanup}).
 * Result branches are the user's and stay. Best effort: a missing repository, file or ref is not an error.
 * `job` is the task's stored job, unverified: it only ever names the repository whose
 * `refs/tsk/snapshots/<taskId>` is deleted, and the ref names come from the checked id, never from the job.
 */
export async function removeTaskFiles(taskId: string, cleanup: TaskCleanup, job: unknown): Promise<void> {
  await rm(taskDir(cleanup.dataDir, taskId), { recursive: true, force: true });
  await rm(taskLogFile(cleanup.dataDir, taskId), { force: true });
  const repoPath = peekJob(job).spec?.repoPath;
  const local = typeof repoPath === 'string' && isAbsolute(repoPath) && existsSync(repoPath) ? repoPath : undefined;
  if (local !== undefined) {
    // Loaded here, not at the top: deleting the ref needs nodegit, which the queue's other users do not.
    const { deleteSnapshotRef } = await import('../git/snapshot.js');
    await deleteSnapshotRef(local, taskId).catch((error: unknown) => {
      debug.queue('[%s] snapshot ref: %s', taskId, (error as Error).message);
    });
  }
  const url = remoteOf(taskId, cleanup.ring, job);
  if (url !== undefined) {
    // From the user's repository when it is here, so its git configuration (insteadOf, credentials) applies.
    await deleteRemoteTaskRefs(local ?? tmpdir(), url, taskId).catch((error: unknown) => {
      debug.queue('[%s] refs on %s: %s', taskId, url, (error as Error).message);
    });
  }
}

/** The shared remote a verified job names, if any. */
function remoteOf(taskId: string, ring: KeyRing | undefined, job: unknown): string | undefined {
  if (ring === undefined) return undefined;
  try {
    const { source } = openSignedJob(job, ring, taskId).spec;
    return source.kind === 'remote' ? source.url : undefined;
  } catch {
    return undefined;
  }
}

/** Delete a task everywhere: cancelled first if it has not ended, then its queue entries and its files. */
export async function deleteTask(queue: TaskQueue, taskId: string, cleanup: TaskCleanup): Promise<void> {
  const job = await queue.remove(taskId);
  await removeTaskFiles(taskId, cleanup, job);
}

/**
 * Delete every ended task that finished before `finishedBefore` (all ended tasks when undefined); returns
 * their ids. Index entries that are not task ids (only something other than tsk writes those) are left alone.
 */
export async function cleanTasks(queue: TaskQueue, cleanup: TaskCleanup, finishedBefore?: Date): Promise<string[]> {
  const ids = (await queue.endedTasks(finishedBefore)).map((task) => task.id).filter(isTaskId);
  for (const id of ids) await deleteTask(queue, id, cleanup);
  return ids;
}
