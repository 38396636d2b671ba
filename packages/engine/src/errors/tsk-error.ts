/** Stable machine-readable codes for every failure tsk reports. */
export type TskErrorCode =
  | 'CONFIG'
  | 'TEMPLATE'
  | 'GIT'
  | 'IMAGE_BUILD'
  | 'CONTAINER'
  | 'DOCKER_UNAVAILABLE'
  | 'AGENT'
  | 'TASK_CANCELLED'
  | 'INPUT'
  | 'QUEUE'
  | 'PROXY'
  | 'TRUST';

export interface TskErrorOptions {
  /** What the user can do about it, appended to the one-line message shown by the CLI. */
  hint?: string;
  cause?: unknown;
}

/**
 * Base class of every error tsk raises on purpose. The CLI prints `message` (plus `hint`) as one line;
 * anything that is not a TskError is a bug and is shown with its stack under `--debug`.
 */
export class TskError extends Error {
  readonly code: TskErrorCode;
  readonly hint: string | undefined;

  constructor(code: TskErrorCode, message: string, options: TskErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /** The single line the CLI shows: message and, when there is one, what to do next. */
  get userMessage(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}
