import { TskError, type TskErrorOptions } from './tsk-error.js';

/** Redis cannot be reached or refused an operation, or the queue holds something unexpected. */
export class QueueError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('QUEUE', message, options);
  }
}

/** A job's payload is not a valid task: the worker fails that job with this reason and carries on. */
export class TaskPayloadError extends TskError {
  /** Every problem found, e.g. `config.volumes[0].kind must be "bind" or "named"`. */
  readonly problems: readonly string[];

  constructor(jobId: string, problems: readonly string[]) {
    super('QUEUE', `Job ${jobId} is not a valid task: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
