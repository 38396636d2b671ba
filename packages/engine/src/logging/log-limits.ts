/**
 * How much of a task's output is kept. Agents and builds write what they like: one line without a newline
 * can be gigabytes, and a task can print until it ends. Redis runs `noeviction`, so one task that filled
 * it would stop every queue on it; a worker's memory and disk are shared by all its tasks.
 */
export interface LogLimits {
  /** Characters of one log line; the rest is replaced by a cut marker. */
  lineChars: number;
  /**
   * Characters of one raw output line of an agent before it is parsed: Claude's and Codex's JSON events
   * carry whole files on one line, so they are read whole up to this size (and then cut to `lineChars`).
   */
  rawLineChars: number;
  /** Bytes of agent and build output per task log (Redis stream and worker's file alike). */
  taskBytes: number;
  /** Bytes beyond `taskBytes` that tsk's own lines (`tsk`, `warn`) may still use, so a task's end is logged. */
  tskReserveBytes: number;
  /** What one line costs beyond its text: the file's time stamp and source, the stream entry's fields. */
  lineOverheadBytes: number;
}

export const LOG_LIMITS: LogLimits = {
  lineChars: 16 * 1024,
  rawLineChars: 1024 * 1024,
  taskBytes: 8 * 1024 * 1024,
  tskReserveBytes: 1024 * 1024,
  lineOverheadBytes: 32,
};
