import { TskError, type TskErrorOptions } from './tsk-error.js';

/** A task template is unknown, unreadable, or cannot be rendered with the prompt given. */
export class TemplateError extends TskError {
  constructor(message: string, options?: TskErrorOptions) {
    super('TEMPLATE', message, options);
  }
}
