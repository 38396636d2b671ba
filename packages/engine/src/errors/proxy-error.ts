import { TskError, type TskErrorOptions } from './tsk-error.js';

/**
 * The network proxy or a task's isolated network could not be set up or torn down, or the engine cannot
 * isolate a sandbox safely (tsk then refuses to run the task rather than run it unprotected).
 */
export class ProxyError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('PROXY', message, options);
  }
}
