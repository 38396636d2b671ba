import { join } from 'node:path';
import { InputError } from '../errors/index.js';
import { isTaskId } from './ids.js';

/**
 * The only places a task id becomes a path. Ids come back from Redis, where anyone with write access can
 * put `../..`: each join checks the id itself, so no caller can forget to.
 */
function checkedId(taskId: string): string {
  if (!isTaskId(taskId)) throw new InputError(`"${taskId.slice(0, 40)}" is not a task id; refusing to use it in a path`);
  return taskId;
}

/** The directory a task uses on the machine running it (workspace, instructions, sandbox home): `<dataDir>/tasks/<id>`. */
export function taskDir(dataDir: string, taskId: string): string {
  return join(dataDir, 'tasks', checkedId(taskId));
}

/** The worker's on-disk copy of a task's log: `<dataDir>/logs/<id>.log`. */
export function taskLogFile(dataDir: string, taskId: string): string {
  return join(dataDir, 'logs', `${checkedId(taskId)}.log`);
}
