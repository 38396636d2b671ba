import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deleteSnapshotRef } from '../git/index.js';
import { log as debug } from '../logging/index.js';
import type { TaskSpec } from '../model/index.js';
import { taskDir } from '../runner/task-runner.js';
import type { TaskQueue } from './task-queue.js';

/** The worker's on-disk copy of a task's log: `<dataDir>/logs/<id>.log`. */
export function taskLogFile(dataDir: string, taskId: string): string {
  return join(dataDir, 'logs', `${taskId}.log`);
}

/**
 * Remove what a task left on this machine: its workspace and log file under `dataDir`, and its snapshot
 * ref when the origin repository is here. The result branch is the user's and stays. Best effort: a
 * missing repository or file is not an error.
 */
export async function removeTaskFiles(spec: Pick<TaskSpec, 'id' | 'source'>, dataDir: string): Promise<void> {
  await rm(taskDir(dataDir, spec.id), { recursive: true, force: true });
  await rm(taskLogFile(dataDir, spec.id), { force: true });
  if (spec.source.kind === 'local' && existsSync(spec.source.repoPath)) {
    await deleteSnapshotRef(spec.source.repoPath, spec.id).catch((error: unknown) => {
      debug.queue('[%s] snapshot ref: %s', spec.id, (error as Error).message);
    });
  }
}

/** Delete a task everywhere: cancelled first if it has not ended, then its queue entries and its files here. */
export async function deleteTask(queue: TaskQueue, taskId: string, dataDir: string): Promise<void> {
  const spec = await queue.remove(taskId);
  await removeTaskFiles(spec, dataDir);
}

/** Delete every ended task that finished before `finishedBefore` (all ended tasks when undefined); returns their ids. */
export async function cleanTasks(queue: TaskQueue, dataDir: string, finishedBefore?: Date): Promise<string[]> {
  const ids = (await queue.endedTasks(finishedBefore)).map((task) => task.id);
  for (const id of ids) await deleteTask(queue, id, dataDir);
  return ids;
}
