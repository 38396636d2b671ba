import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { isTaskId } from '../common/ids.js';
import { taskDir, taskLogFile } from '../common/task-paths.js';
import { deleteSnapshotRef } from '../git/index.js';
import { log as debug } from '../logging/index.js';
import { peekJob } from '../signing/index.js';
import type { TaskQueue } from './task-queue.js';

/**
 * Remove what a task left on this machine: its workspace and log file under `dataDir`, and its snapshot
 * ref when the origin repository is here. The result branch is the user's and stays. Best effort: a
 * missing repository or file is not an error. `job` is the task's stored job, unverified: it only ever
 * names the repository whose `refs/tsk/snapshots/<taskId>` is deleted, and the ref name comes from the
 * checked id, never from the job.
 */
export async function removeTaskFiles(taskId: string, dataDir: string, job: unknown): Promise<void> {
  await rm(taskDir(dataDir, taskId), { recursive: true, force: true });
  await rm(taskLogFile(dataDir, taskId), { force: true });
  const source = peekJob(job).spec?.source;
  const repoPath = typeof source === 'object' && source !== null ? (source as Record<string, unknown>).repoPath : undefined;
  if (typeof repoPath === 'string' && isAbsolute(repoPath) && existsSync(repoPath)) {
    await deleteSnapshotRef(repoPath, taskId).catch((error: unknown) => {
      debug.queue('[%s] snapshot ref: %s', taskId, (error as Error).message);
    });
  }
}

/** Delete a task everywhere: cancelled first if it has not ended, then its queue entries and its files here. */
export async function deleteTask(queue: TaskQueue, taskId: string, dataDir: string): Promise<void> {
  const job = await queue.remove(taskId);
  await removeTaskFiles(taskId, dataDir, job);
}

/**
 * Delete every ended task that finished before `finishedBefore` (all ended tasks when undefined); returns
 * their ids. Index entries that are not task ids (only something other than tsk writes those) are left alone.
 */
export async function cleanTasks(queue: TaskQueue, dataDir: string, finishedBefore?: Date): Promise<string[]> {
  const ids = (await queue.endedTasks(finishedBefore)).map((task) => task.id).filter(isTaskId);
  for (const id of ids) await deleteTask(queue, id, dataDir);
  return ids;
}
