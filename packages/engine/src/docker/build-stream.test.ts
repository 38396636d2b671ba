import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineCutMarker } from '../common/line-splitter.js';
import { LOG_LIMITS, type LogSink, type LogSource } from '../logging/index.js';
import { OUTPUT_LINES, readProgressStream } from './build-stream.js';

function recorder(): LogSink & { lines: [LogSource, string][] } {
  const lines: [LogSource, string][] = [];
  return { lines, write: (source, line) => lines.push([source, line]) };
}

/** A progress stream whose JSON messages arrive in awkward chunks (split mid-message). */
function streamOf(messages: object[], chunkSize = 7): Readable {
  const text = messages.map((message) => `${JSON.stringify(message)}\r\n`).join('');
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.slice(i, i + chunkSize));
  return Readable.from(chunks);
}

describe('readProgressStream', () => {
  it('should log each output line as build and keep the running step and its output', async () => {
    const log = recorder();
    const outcome = await readProgressStream(
      streamOf([
        { stream: 'Step 1/2 : FROM debian\n' },
        { stream: ' ---> 01cec48a494a\n' },
        { stream: 'Step 2/2 : RUN make\n' },
        { stream: ' ---> Running in 1234\n' },
        { stream: 'compiling ' },
        { stream: 'foo\nlinking\n' },
        { aux: { ID: 'sha256:abc' } },
        { stream: 'Successfully built abc\n' },
      ]),
      log,
    );
    expect(log.lines.map(([, line]) => line)).toEqual([
      'Step 1/2 : FROM debian',
      ' ---> 01cec48a494a',
      'Step 2/2 : RUN make',
      ' ---> Running in 1234',
      'compiling foo',
      'linking',
      'Successfully built abc',
    ]);
    expect(log.lines.every(([source]) => source === 'build')).toBe(true);
    expect(outcome).toEqual({
      error: undefined,
      step: 'Step 2/2 : RUN make',
      output: ['compiling foo', 'linking', 'Successfully built abc'],
      imageId: 'sha256:abc',
    });
  });

  it('should report errorDetail and keep only the last lines of the failing step', async () => {
    const noise = Array.from({ length: 30 }, (_, i) => ({ stream: `line ${i}\n` }));
    const outcome = await readProgressStream(
      streamOf([
        { stream: 'Step 3/4 : RUN ./build.sh\n' },
        ...noise,
        { stream: 'boom: no such file\n' },
        { errorDetail: { code: 2, message: "The command '/bin/sh -c ./build.sh' returned a non-zero code: 2" }, error: 'short' },
      ]),
      recorder(),
    );
    expect(outcome.step).toBe('Step 3/4 : RUN ./build.sh');
    expect(outcome.error).toBe("The command '/bin/sh -c ./build.sh' returned a non-zero code: 2");
    expect(outcome.output).toHaveLength(OUTPUT_LINES);
    expect(outcome.output.at(-1)).toBe('boom: no such file');
  });

  it('should keep the last frame of carriage-return progress and log pull status changes only', async () => {
    const log = recorder();
    await readProgressStream(
      streamOf([
        { stream: '10%\r50%\r100%\n' },
        { status: 'Downloading', progress: '[==>   ]', id: 'abc' },
        { status: 'Pull complete', id: 'abc' },
      ]),
      log,
    );
    expect(log.lines.map(([, line]) => line)).toEqual(['100%', 'abc: Pull complete']);
  });

  it('should deliver a RUN step that prints without a newline as one line cut to the log line length', async () => {
    const log = recorder();
    const cap = LOG_LIMITS.lineChars;
    // What Docker sends for `head -c … | tr '\0' a`: output chunks of a few KiB, none with a newline.
    const chunks = Array.from({ length: 10 * 16 }, () => ({ stream: 'a'.repeat(cap / 16) }));
    const outcome = await readProgressStream(streamOf([...chunks, { stream: '\nok\n' }], 4096), log);
    expect(log.lines.map(([, line]) => line)).toEqual(['a'.repeat(cap) + lineCutMarker(9 * cap), 'ok']);
    expect(outcome.output.at(-1)).toBe('ok');
  });

  it('should keep a multibyte character that a chunk boundary splits', async () => {
    const log = recorder();
    const bytes = Buffer.from(`${JSON.stringify({ stream: 'héllo 😀\n' })}\n`, 'utf8');
    await readProgressStream(Readable.from([...bytes].map((byte) => Buffer.from([byte]))), log);
    expect(log.lines).toEqual([['build', 'héllo 😀']]);
  });

  it('should reject when the stream fails', async () => {
    const stream = new PassThrough();
    const outcome = readProgressStream(stream, recorder());
    stream.destroy(new Error('socket hang up'));
    await expect(outcome).rejects.toThrow('socket hang up');
  });
});
