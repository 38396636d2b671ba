import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { log as debug, type LogSink } from '../logging/index.js';

/** A sink appending `<ISO time> <source> <line>` to a file; `close()` flushes it. */
export interface FileLogSink extends LogSink {
  close(): Promise<void>;
}

/**
 * The worker's own copy of a task's log, kept on its disk next to the Redis stream. Lines written in one
 * go (a chunk of agent output) are written to the file together: one write request per line would cost
 * far more memory than the line itself while the disk catches up.
 */
export function fileLogSink(path: string): FileLogSink {
  mkdirSync(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: 'a' });
  // A full disk must not fail the task: the Redis stream still has the log.
  stream.on('error', (error) => debug.queue('log file %s: %s', path, error.message));
  let waiting: string[] = [];
  const writeWaiting = () => {
    if (waiting.length === 0) return;
    stream.write(waiting.join(''));
    waiting = [];
  };
  return {
    write(source, line) {
      if (waiting.length === 0) setImmediate(writeWaiting);
      waiting.push(`${new Date().toISOString()} ${source} ${line}\n`);
    },
    close: () => {
      writeWaiting();
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}
