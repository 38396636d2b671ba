/**
 * Where a line comes from: `tsk` infrastructure progress, `build` image build output, `agent` the agent's
 * rendered output, `warn` a warning the user should see.
 */
export type LogSource = 'tsk' | 'build' | 'agent' | 'warn';

/** Receives a task's user-facing lines: the CLI prints them, the worker writes them to Redis and disk. */
export interface LogSink {
  write(source: LogSource, line: string): void;
}

/** A sink that drops everything (for callers that only want the result). */
export const silentSink: LogSink = { write: () => undefined };

/** Fan one line out to several sinks. */
export function teeSink(...sinks: LogSink[]): LogSink {
  return { write: (source, line) => sinks.forEach((sink) => sink.write(source, line)) };
}
