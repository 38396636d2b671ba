import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogSink } from '../logging/index.js';
import { bindableAddresses, type HostForwarding } from './host-forwarding.js';
import { HostPortForwarders } from './host-port-forwarders.js';
import { currentOwner } from './task-owner.js';

// Real sockets, loopback only: 127.0.0.2 plays the host's address on the proxy's egress bridge (subnet
// 127.0.0.0/30: peers 127.0.0.0-3), 127.0.0.1 the host's loopback, 127.0.0.5 the docker0 address, and a
// client bound to 127.0.0.9 a container on some other network.
const GATEWAY = '127.0.0.2';
const SUBNET = '127.0.0.0/30';
const PROXY_SIDE = '127.0.0.3';
const OTHER_NETWORK = '127.0.0.9';
const DOCKER0 = '127.0.0.5';

/** A TCP service answering every connection with `name` and the bytes it received, once the client half-closes. */
async function service(host: string, name: string, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(`${name}:${Buffer.concat(chunks).toString()}`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ host, port }, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Send `text` from `localAddress` to `<host>:<port>`, half-close, and return what came back ('' when cut off). */
function exchange(port: number, text: string, localAddress = PROXY_SIDE, host = GATEWAY): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.end(text));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

/** Whether anything listens on `<address>:<port>` (read from the kernel's socket table). */
function listensOn(address: string, port: number): boolean {
  const hex = (value: number, width: number) => value.toString(16).toUpperCase().padStart(width, '0');
  const local = `${address.split('.').reverse().map((octet) => hex(Number(octet), 2)).join('')}:${hex(port, 4)}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === local && fields[3] === '0A';
  });
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
}

function recorder(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (source, line) => lines.push(`${source}: ${line}`) };
}

describe('HostPortForwarders (real sockets on loopback)', () => {
  let lockDir: string;
  const servers: Server[] = [];

  beforeEach(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'tsk-forwarders-'));
  });

  afterEach(async () => {
    await closeAll(servers.splice(0));
    await rm(lockDir, { recursive: true, force: true });
  });

  async function started(host: string, name: string, port?: number): Promise<number> {
    const { server, port: bound } = await service(host, name, port);
    servers.push(server);
    return bound;
  }

  function forwarding(ports: number[]): HostForwarding {
    return { gateway: GATEWAY, subnet: SUBNET, ports, targets: ['127.0.0.1', DOCKER0] };
  }

  it('should forward listed ports to loopback or else docker0, only for peers on the proxy network, until released', async () => {
    const onLoopback = await started('127.0.0.1', 'loopback');
    const onDocker0 = await started(DOCKER0, 'docker0');
    const unlisted = await started('127.0.0.1', 'unlisted');
    const forwarders = new HostPortForwarders({ lockDir });
    const log = recorder();
    const release = await forwarders.hold(forwarding([onLoopback, onDocker0]), log);

    expect(await exchange(onLoopback, 'hello')).toBe('loopback:hello');
    expect(await exchange(onDocker0, 'hi')).toBe('docker0:hi');
    // A large body passes both ways intact.
    const big = 'x'.repeat(3 * 1024 * 1024);
    expect(await exchange(onLoopback, big)).toBe(`loopback:${big}`);
    // Another network's container reaches the address too, but is cut off before anything is forwarded.
    expect(await exchange(onLoopback, 'let me in', OTHER_NETWORK)).toBe('');
    // Nothing opens for a port that is not listed.
    expect(listensOn(GATEWAY, unlisted)).toBe(false);
    await expect(exchange(unlisted, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(forwarders.listening().sort()).toEqual([`${GATEWAY}:${onLoopback}`, `${GATEWAY}:${onDocker0}`].sort());
    expect(await readFile(join(lockDir, `host-port-${GATEWAY}-${onLoopback}`), 'utf8')).toBe(`${currentOwner()}\n`);
    expect(log.lines).toEqual([]);

    await release();
    expect(listensOn(GATEWAY, onLoopback)).toBe(false);
    expect(listensOn(GATEWAY, onDocker0)).toBe(false);
    await expect(exchange(onLoopback, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(readFile(join(lockDir, `host-port-${GATEWAY}-${onLoopback}`))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('should keep a port open until the last of the tasks holding it lets go, and end its connections then', async () => {
    const port = await started('127.0.0.1', 'shared');
    const forwarders = new HostPortForwarders({ lockDir });
    const first = await forwarders.hold(forwarding([port]), recorder());
    const second = await forwarders.hold(forwarding([port]), recorder());
    await first();
    expect(await exchange(port, 'still')).toBe('shared:still');
    // A connection still open when the last task ends is cut.
    const open = connect({ host: GATEWAY, port, localAddress: PROXY_SIDE });
    open.on('error', () => undefined);
    const closed = new Promise((resolve) => open.once('close', resolve));
    await new Promise((resolve) => open.once('connect', resolve));
    await second();
    await closed;
    expect(listensOn(GATEWAY, port)).toBe(false);
    // Held again right away (a worker's next task): listening again.
    const third = await forwarders.hold(forwarding([port]), recorder());
    expect(await exchange(port, 'again')).toBe('shared:again');
    await third();
  });

  it('should leave a port a host service holds on 0.0.0.0 to it, and not grab it while that service restarts', async () => {
    const port = await started('0.0.0.0', 'everywhere');
    const forwarders = new HostPortForwarders({ lockDir, pollMs: 20 });
    const log = recorder();
    const release = await forwarders.hold(forwarding([port]), log);
    expect(forwarders.listening()).toEqual([]);
    expect(await exchange(port, 'direct')).toBe('everywhere:direct');
    await closeAll(servers.splice(0));
    await sleep(200);
    expect(forwarders.listening()).toEqual([]);
    await started('0.0.0.0', 'restarted', port);
    expect(await exchange(port, 'back')).toBe('restarted:back');
    expect(log.lines).toEqual([]);
    await release();
  });

  it("should take a port over from another tsk process's forwarder when that one ends", async () => {
    const port = await started('127.0.0.1', 'service');
    // Two processes sharing one proxy (and lock folder): the second finds the port taken.
    const first = new HostPortForwarders({ lockDir, pollMs: 20 });
    const second = new HostPortForwarders({ lockDir, pollMs: 20 });
    const releaseFirst = await first.hold(forwarding([port]), recorder());
    const releaseSecond = await second.hold(forwarding([port]), recorder());
    expect(first.listening()).toEqual([`${GATEWAY}:${port}`]);
    expect(second.listening()).toEqual([]);
    await releaseFirst();
    for (let i = 0; i < 100 && second.listening().length === 0; i += 1) await sleep(20);
    expect(second.listening()).toEqual([`${GATEWAY}:${port}`]);
    expect(await exchange(port, 'handed over')).toBe('service:handed over');
    await releaseSecond();
    expect(listensOn(GATEWAY, port)).toBe(false);
  });

  it('should warn, and forward nothing, when it cannot listen on the address', async () => {
    const port = await started('127.0.0.1', 'service');
    const forwarders = new HostPortForwarders({ lockDir });
    const log = recorder();
    // 198.51.100.0/24 (TEST-NET-2) is no address of this host: binding fails, nothing is sent anywhere.
    const release = await forwarders.hold({ ...forwarding([port]), gateway: '198.51.100.77', subnet: '198.51.100.0/24' }, log);
    expect(forwarders.listening()).toEqual([]);
    expect(log.lines).toEqual([expect.stringMatching(new RegExp(`^warn: host_ports: cannot forward port ${port} .*EADDRNOTAVAIL`))]);
    // A second task holding the same port is told too.
    const second = recorder();
    const releaseSecond = await forwarders.hold({ ...forwarding([port]), gateway: '198.51.100.77', subnet: '198.51.100.0/24' }, second);
    expect(second.lines).toEqual(log.lines);
    await releaseSecond();
    await release();
  });

  it('should tell addresses of this host from others by binding to them', async () => {
    const local = await bindableAddresses(['127.0.0.1', GATEWAY, '198.51.100.77', undefined, 'not-an-address', '::1']);
    expect([...local].sort()).toEqual(['127.0.0.1', GATEWAY]);
  });
});
