import { TskError, type TskErrorOptions } from './tsk-error.js';

/** A configuration file, key, value or referenced file is wrong. The message names the file and key. */
export class ConfigError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('CONFIG', message, options);
  }
}
