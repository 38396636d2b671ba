import { TskError } from './tsk-error.js';

/** The task was cancelled (Ctrl+C, `tsk cancel`, worker shutdown) before it finished. */
export class TaskCancelledError extends TskError {
  constructor(taskId: string, reason = 'cancelled') {
    super('TASK_CANCELLED', `Task ${taskId} ${reason}`);
  }
}
