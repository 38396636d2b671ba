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
    super('QUEUE', `Job ${jobId} is not a valid task: ${summarizeProblems(problems)}`);
    this.problems = problems;
  }
}

/** Problems a message names before "and N more". */
const PROBLEMS_SHOWN = 5;

/**
 * A payload's problems for one line: the first few, then how many more. A list of 10,000 bad entries
 * would otherwise make a message (and a task record, and a terminal line) of megabytes.
 */
export function summarizeProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, PROBLEMS_SHOWN).join('; ');
  return problems.length > PROBLEMS_SHOWN ? `${shown}; and ${problems.length - PROBLEMS_SHOWN} more` : shown;
}
