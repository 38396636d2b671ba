import type { ReadStream, WriteStream } from 'node:tty';
import { InputError, type TerminalSession, type TerminalSize } from '@tsk/engine';

/**
 * The user's terminal lent to a sandbox (`tsk shell`). Raw while the sandbox is attached, so every key,
 * Ctrl+C included, goes to the sandbox's shell and not to tsk; restored when the session ends, and on exit
 * whatever the reason. Closing the terminal (SIGHUP) while attached ends the session like `exit` (the work
 * is kept); before that, it calls `onEarlyHangup` (nothing to keep yet: the caller cancels).
 */
export class UserTerminal implements TerminalSession, Disposable {
  private readonly closed = new AbortController();
  private attached = false;
  private raw = false;

  private constructor(
    readonly input: ReadStream,
    readonly output: WriteStream,
    private readonly onEarlyHangup: () => void,
  ) {
    process.on('SIGHUP', this.onHangup);
    process.on('exit', this.restore);
  }

  /** The terminal on stdin and stdout; one clear error when either is not a terminal. */
  static open(onEarlyHangup: () => void): UserTerminal {
    for (const [name, stream] of [['stdin', process.stdin], ['stdout', process.stdout]] as const) {
      if (!stream.isTTY) {
        throw new InputError(`${name} is not a terminal: tsk shell needs an interactive one`, {
          hint: 'run it from a terminal; tsk run runs a task without one',
        });
      }
    }
    return new UserTerminal(process.stdin as ReadStream, process.stdout as WriteStream, onEarlyHangup);
  }

  get hangup(): AbortSignal {
    return this.closed.signal;
  }

  size(): TerminalSize {
    return { columns: this.output.columns, rows: this.output.rows };
  }

  onResize(listener: () => void): () => void {
    this.output.on('resize', listener);
    return () => this.output.off('resize', listener);
  }

  enter(): void {
    this.attached = true;
    this.input.setRawMode(true);
    this.raw = true;
  }

  leave(): void {
    this.attached = false;
    this.restore();
    // Nothing reads the terminal any more: let the process end.
    this.input.pause();
  }

  [Symbol.dispose](): void {
    process.off('SIGHUP', this.onHangup);
    process.off('exit', this.restore);
    this.restore();
  }

  private readonly restore = (): void => {
    if (!this.raw) return;
    this.raw = false;
    try {
      this.input.setRawMode(false);
    } catch {
      // The terminal is gone: there is nothing left to restore.
    }
  };

  private readonly onHangup = (): void => {
    // The terminal is gone: what tsk still writes (the log, the outcome) fails; the work must still be saved.
    for (const stream of [process.stdin, process.stdout, process.stderr]) stream.on('error', () => undefined);
    if (this.attached) this.closed.abort();
    else this.onEarlyHangup();
  };
}
