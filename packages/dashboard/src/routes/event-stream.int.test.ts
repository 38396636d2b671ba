import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { openEventStream, STREAM_BUFFER_LIMIT } from './event-stream.js';

describe('event streams (real HTTP on loopback)', () => {
  it('drop a page that stops reading once the limit waits for it, instead of buffering without end', async () => {
    const event = 'x'.repeat(256 * 1024);
    let sent = 0;
    let dropped: Promise<void> | undefined;
    const app = express();
    app.get('/stream', (req, res) => {
      const stream = openEventStream(req, res);
      dropped = new Promise((resolve) => stream.signal.addEventListener('abort', () => resolve(), { once: true }));
      const push = () => {
        // Each send returns at once: only the stream's own bound stops the loop.
        while (stream.send('data', event)) {
          sent++;
          if (sent % 16 === 0) return void setImmediate(push);
        }
      };
      push();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    // A page that asks and never reads: its socket's buffers fill, then the server's.
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.write(`GET /stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    try {
      while (dropped === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      await Promise.race([dropped, new Promise((_, reject) => setTimeout(() => reject(new Error('never dropped')), 20_000))]);
      // What was sent fits the bound plus what the kernel's socket buffers took.
      expect(sent * event.length).toBeGreaterThanOrEqual(STREAM_BUFFER_LIMIT);
      expect(sent * event.length).toBeLessThan(STREAM_BUFFER_LIMIT + 32 * 1024 * 1024);
    } finally {
      socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
