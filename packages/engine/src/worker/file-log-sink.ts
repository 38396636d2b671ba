import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { log as debug, type LogSink } from '../logging/index.js';

/** A sink appending `<ISO time> <source> <line>` to a file; `close()` flushes it. */
export interface FileLogSink extends LogSink {
  close(): Promise<void>;
}

/** The worker's own copy of a task's log, kept on its disk next to the Redis stream. */
export function fileLogSink(path: string): FileLogSink {
  mkdirSync(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: 'a' });
  // A full disk must not fail the task: the Redis stream still has the log.
  stream.on('error', (error) => debug.queue('log file %s: %s', path, error.message));
  return {
    write(source, line) {
      stream.write(`${new Date().toISOString()} ${source} ${line}\n`);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
