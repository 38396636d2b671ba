import { LineSplitter } from '../common/line-splitter.js';
import { LOG_LIMITS } from '../logging/log-limits.js';
import type { LogSink } from '../logging/index.js';

/** One JSON message of Docker's build, pull or import progress stream. */
interface ProgressMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

/** What a progress stream said, once it ended. */
export interface ProgressOutcome {
  /** Docker's error text, when the stream reported one (`errorDetail.message`, else `error`). */
  error: string | undefined;
  /** The last `Step N/M : …` line (classic builder), i.e. the step that was running at the end. */
  step: string | undefined;
  /** The last {@link OUTPUT_LINES} output lines of that step (Docker's ` ---> …` bookkeeping left out). */
  output: string[];
  /** Image id from the `aux` message, when the engine sent one. */
  imageId: string | undefined;
}

/** How many output lines of the failing step an error keeps. */
export const OUTPUT_LINES = 20;

/**
 * Longest progress message read whole. Docker sends a build's output in chunks of a few KiB, JSON-escaped
 * (up to six times longer); a longer message is not Docker's and is shown cut, as text.
 */
const MESSAGE_CHARS = 1024 * 1024;

const STEP_LINE = /^Step \d+\/\d+ : /;
const BOOKKEEPING_LINE = /^ ---> /;

/**
 * Read a Docker progress stream (newline-delimited JSON) to its end, sending every output line to `log`
 * as `build`, and collect the error, the running step and its last lines. Resolves even when the stream
 * reports an error (the caller decides what to throw); rejects only when the stream itself fails.
 */
export function readProgressStream(stream: NodeJS.ReadableStream, log: LogSink): Promise<ProgressOutcome> {
  return new Promise((resolve, reject) => {
    const outcome: ProgressOutcome = { error: undefined, step: undefined, output: [], imageId: undefined };
    // A RUN step's output can be one endless line: neither buffer holds more than its limit.
    // Progress bars redraw with \r; the last frame is the one worth keeping.
    const output = new LineSplitter((line) => onLine(line), { maxChars: LOG_LIMITS.lineChars, carriageReturn: 'overwrite' });
    const messages = new LineSplitter((line) => onJsonLine(line), { maxChars: MESSAGE_CHARS });

    const onLine = (raw: string): void => {
      const line = raw.trimEnd();
      if (!line) return;
      log.write('build', line);
      if (STEP_LINE.test(line)) {
        outcome.step = line;
        outcome.output = [];
      } else if (!BOOKKEEPING_LINE.test(line)) {
        outcome.output.push(line);
        if (outcome.output.length > OUTPUT_LINES) outcome.output.shift();
      }
    };
    const onMessage = (message: ProgressMessage): void => {
      if (typeof message.stream === 'string') output.push(message.stream);
      // Pull progress repeats per chunk; only state changes ("Pull complete") are worth a line.
      if (typeof message.status === 'string' && message.progress === undefined) {
        onLine(message.id ? `${message.id}: ${message.status}` : message.status);
      }
      if (message.aux?.ID) outcome.imageId = message.aux.ID;
      if (message.error !== undefined || message.errorDetail !== undefined) {
        outcome.error = message.errorDetail?.message ?? message.error ?? 'unknown error';
      }
    };
    const onJsonLine = (line: string): void => {
      if (line.trim() === '') return;
      try {
        onMessage(JSON.parse(line) as ProgressMessage);
      } catch {
        output.push(`${line}\n`); // not JSON: keep it as output rather than lose it
      }
    };

    stream.on('data', (chunk: Buffer | string) => messages.push(chunk));
    let ended = false;
    stream.on('error', reject);
    stream.on('close', () => {
      if (!ended) reject(new Error('Docker closed the progress stream before it ended'));
    });
    stream.on('end', () => {
      ended = true;
      messages.end();
      output.end();
      resolve(outcome);
    });
  });
}
