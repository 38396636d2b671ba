import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FLUSH_HOST, FLUSH_RULE, flushNonce, newFlushNonce, sendFlushMarker, withFlushRule } from './denial-flush.js';
import { parseDenialLine, type ProxyDenial } from './proxy-denials.js';

function denial(target: string, method = 'GET'): ProxyDenial {
  return { time: 1, client: '172.20.0.1', method, target };
}

describe('flush markers', () => {
  it('should put the rule denying the marker host before the configuration', () => {
    const conf = withFlushRule('http_access allow all\n');
    expect(conf.indexOf(`http_access deny tsk_flush`)).toBeLessThan(conf.indexOf('http_access allow all'));
    expect(conf.startsWith(FLUSH_RULE)).toBe(true);
  });

  it('should read the nonce of a marker line and nothing from other denials', () => {
    const nonce = newFlushNonce();
    expect(nonce).toMatch(/^[0-9a-f]{16}$/);
    expect(newFlushNonce()).not.toBe(nonce);
    const line = parseDenialLine(`tsk-denied 1764681600.123 172.20.0.1 TCP_DENIED/403 GET http://${FLUSH_HOST}/${nonce}`);
    expect(line && flushNonce(line)).toBe(nonce);
    expect(flushNonce(denial(`http://${FLUSH_HOST}/${nonce}/more`))).toBeUndefined();
    expect(flushNonce(denial(`http://${FLUSH_HOST}/x${nonce.slice(1)}`))).toBeUndefined();
    expect(flushNonce(denial(`${FLUSH_HOST}:443`, 'CONNECT'))).toBeUndefined();
    expect(flushNonce(denial(`http://denied.example/${nonce}`))).toBeUndefined();
  });
});

describe('sendFlushMarker', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.close();
    server = undefined;
  });

  async function listen(onRequest: (text: string, reply: (text: string) => void) => void): Promise<number> {
    server = createServer((socket) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n')) onRequest(text, (reply) => socket.end(reply));
      });
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('should ask a proxy for the marker URL and resolve once it answers', async () => {
    let asked = '';
    const port = await listen((text, reply) => {
      asked = text;
      reply('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });
    await expect(sendFlushMarker('127.0.0.1', port, 'feedc0ffee123456', 2_000)).resolves.toBe('answered');
    expect(asked.split('\r\n')[0]).toBe(`GET http://${FLUSH_HOST}/feedc0ffee123456 HTTP/1.1`);
  });

  it('should say failed when nothing listens and timeout when nothing answers', async () => {
    const port = await listen(() => undefined); // reads the request, never answers
    await expect(sendFlushMarker('127.0.0.1', port, 'feedc0ffee123456', 200)).resolves.toBe('timeout');
    server?.close();
    await once(server!, 'close');
    server = undefined;
    await expect(sendFlushMarker('127.0.0.1', port, 'feedc0ffee123456', 2_000)).resolves.toBe('failed');
  });
});
