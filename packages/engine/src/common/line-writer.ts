import { Writable } from 'node:stream';
import { LineSplitter, type LineSplitterOptions } from './line-splitter.js';

/**
 * A writable stream that calls `onLine` for every complete line written to it (and for the unterminated
 * rest when it ends). Used to turn container output into log lines: UTF-8 is decoded across chunks, and a
 * line longer than `maxChars` is delivered cut, never held whole (see {@link LineSplitter}).
 */
export function lineWriter(onLine: (line: string) => void, options: LineSplitterOptions): Writable {
  const lines = new LineSplitter(onLine, options);
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(chunk);
      callback();
    },
    final(callback) {
      lines.end();
      callback();
    },
  });
}
