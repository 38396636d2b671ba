import { TskError, type TskErrorOptions } from './tsk-error.js';

export interface GitCommandErrorDetails {
  args: readonly string[];
  cwd: string;
  exitCode: number | null;
  /** The signal that ended git, when one did (`exitCode` is then null). */
  signal?: NodeJS.Signals | null;
  stderr: string;
}

/** A git operation failed. Carries the command and git's own stderr so the user sees git's reason. */
export class GitCommandError extends TskError {
  readonly details: GitCommandErrorDetails | undefined;

  constructor(message: string, details?: GitCommandErrorDetails, options?: TskErrorOptions) {
    super('GIT', message, options);
    this.details = details;
  }
}
