/** A terminal's size in character cells. */
export interface TerminalSize {
  columns: number;
  rows: number;
}

/**
 * The user's terminal, lent to a sandbox for an interactive session (`tsk shell`). The engine only wires
 * streams and sizes; the caller owns the terminal and its modes. The stream is the user's own session:
 * nothing in it is logged, cut or sanitized.
 */
export interface TerminalSession {
  /** What the user types, byte for byte (Ctrl+C included: the terminal is raw while attached). */
  readonly input: NodeJS.ReadableStream;
  /** Where the sandbox's terminal output goes, as it is. Never ended by the engine. */
  readonly output: NodeJS.WritableStream;
  /** The terminal's size now. */
  size(): TerminalSize;
  /** Call `listener` whenever the terminal is resized; returns what stops it. */
  onResize(listener: () => void): () => void;
  /** Called once the sandbox is attached, just before it starts: the caller puts its terminal in raw mode. */
  enter(): void;
  /** Called once when the session ends however it ends (exit, error, cancel): the caller restores its terminal. */
  leave(): void;
  /**
   * Aborted when the terminal is gone (the user closed it: SIGHUP). The shell is stopped and its work kept,
   * as if the user had typed `exit`; cancelling is the task's `signal`.
   */
  readonly hangup?: AbortSignal;
}
