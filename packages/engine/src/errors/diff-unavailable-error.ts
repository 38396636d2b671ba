import { TskError, type TskErrorOptions } from './tsk-error.js';

/**
 * Why a task's diff cannot be shown here. `reason` lets a server pick its answer: `missing` (no such task),
 * `no-result` (not ended, or changed nothing), `untrusted` (its job does not verify against the user's
 * keys), `elsewhere` (its repository is not on this machine), `not-fetched` (the result is on a shared
 * remote, not yet in the repository).
 */
export class DiffUnavailableError extends TskError {
  constructor(
    readonly reason: 'missing' | 'no-result' | 'untrusted' | 'elsewhere' | 'not-fetched',
    message: string,
    options?: TskErrorOptions,
  ) {
    super('INPUT', message, options);
  }
}
