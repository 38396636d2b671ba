import { Writable } from 'node:stream';

/**
 * A writable stream that calls `onLine` for every complete line written to it (and for the unterminated
 * rest when it ends). Used to turn container and process output into log lines.
 */
export function lineWriter(onLine: (line: string) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const text = pending + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      const lines = text.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      callback();
    },
    final(callback) {
      if (pending.length > 0) onLine(pending);
      pending = '';
      callback();
    },
  });
}
