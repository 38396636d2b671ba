import type { Request, Response } from 'express';

/** What a slow page may have waiting in its stream before it is dropped (it reconnects and starts over). */
export const STREAM_BUFFER_LIMIT = 8 * 1024 * 1024;

/** An open server-sent event stream. */
export interface EventStream {
  /** Aborted when the page goes away (or the stream is dropped): followers stop on it. */
  signal: AbortSignal;
  /** Send one event; false once the stream is closed or was dropped for falling behind. */
  send(event: string, data: unknown): boolean;
  /** Resolves once what was sent has left (or the stream closed): a follower waits here instead of piling up. */
  drained(): Promise<void>;
  close(): void;
}

/**
 * Turn a response into an event stream: no buffering by proxies, a comment every 15 s so idle
 * connections live, bounded (a page that does not read is dropped, never buffered without limit).
 */
export function openEventStream(req: Request, res: Response): EventStream {
  const abort = new AbortController();
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const close = () => {
    clearInterval(keepAlive);
    if (!abort.signal.aborted) abort.abort();
    if (!res.writableEnded) res.end();
  };
  req.on('close', close);
  res.on('close', close);
  return {
    signal: abort.signal,
    send(event, data) {
      if (abort.signal.aborted) return false;
      if (res.writableLength > STREAM_BUFFER_LIMIT) {
        close();
        return false;
      }
      // JSON has no raw newline, so one `data:` line carries the whole event.
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    },
    drained() {
      if (abort.signal.aborted || !res.writableNeedDrain) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          res.off('drain', done);
          abort.signal.removeEventListener('abort', done);
          resolve();
        };
        res.on('drain', done);
        abort.signal.addEventListener('abort', done, { once: true });
      });
    },
    close,
  };
}
