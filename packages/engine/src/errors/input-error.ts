import { TskError, type TskErrorOptions } from './tsk-error.js';

/** The user asked for something that cannot be done as asked (bad flag value, missing repository…). */
export class InputError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('INPUT', message, options);
  }
}
