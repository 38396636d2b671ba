import { TskError, type TskErrorOptions } from './tsk-error.js';

/** A signing key cannot be made, read or used, or a key given by the user is malformed. */
export class TrustError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('TRUST', message, options);
  }
}

/**
 * A worker will not run a job: unsigned, signed by a key it does not trust, altered, replayed, malformed,
 * or asking for something its policy refuses. The message is the reason recorded on the task.
 */
export class TaskRefusedError extends TskError {
  constructor(
    readonly taskId: string,
    message: string,
    options?: TskErrorOptions,
  ) {
    super('TRUST', message, options);
  }
}
