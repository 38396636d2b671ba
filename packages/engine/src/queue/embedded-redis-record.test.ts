import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embeddedRedisRecord, listenerOwner, loopbackListenerOwner, loopbackPort } from './embedded-redis-record.js';

const TABLE = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:1A0B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 455 1 0 100 0 0 10 0',
  '   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 456 1 0 100 0 0 10 0',
  '   2: 0100007F:2328 0100007F:A000 01 00000000:00000000 00:00000000 00000000  1002        0 457 1 0 100 0 0 10 0',
  '   3: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1003        0 458 1 0 100 0 0 10 0',
].join('\n');

describe('listenerOwner (/proc/net/tcp)', () => {
  it('finds the uid listening on 127.0.0.1:port', () => {
    expect(listenerOwner(TABLE, 0x1a0b)).toBe(0);
    // An established connection on the port is not its listener.
    expect(listenerOwner(TABLE, 0x2328)).toBe(1003);
  });

  it('does not count a listener on every address, nor a port nobody listens on', () => {
    expect(listenerOwner(TABLE, 0x1f90)).toBeUndefined();
    expect(listenerOwner(TABLE, 1)).toBeUndefined();
  });
});

describe('loopbackPort', () => {
  it('accepts the embedded Redis URL only', () => {
    expect(loopbackPort('redis://:secret@127.0.0.1:32768')).toBe(32768);
    expect(loopbackPort('redis://127.0.0.1:6379/')).toBe(6379);
    for (const url of ['redis://:secret@10.0.0.1:6379', 'redis://localhost:6379', 'rediss://127.0.0.1:6379', 'redis://127.0.0.1', 'redis://127.0.0.1:6379/2', 'not a url']) {
      expect(loopbackPort(url), url).toBeUndefined();
    }
  });
});

describe('embeddedRedisRecord', () => {
  let dataDir: string;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tsk-redis-record-'));
    // A real listener on loopback, owned by this process's user: what the record is checked against.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    url = `redis://:pw%2F1@127.0.0.1:${address.port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reads back what it wrote while the port is listened on by this user, privately', async () => {
    const record = embeddedRedisRecord(dataDir, 'tsk-redis', {});
    expect(await record.read()).toBeUndefined();
    await record.write(url);
    expect(await record.read()).toBe(url);
    const file = join(dataDir, 'embedded-redis', 'tsk-redis.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url, dockerHost: '' });
    expect(await loopbackListenerOwner(Number(new URL(url).port))).toBe(process.getuid?.());
  });

  it('is not used once nobody listens on the port', async () => {
    const record = embeddedRedisRecord(dataDir, 'tsk-redis', {});
    await record.write(url);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    expect(await record.read()).toBeUndefined();
  });

  it('is not used for another Docker engine, nor another container name', async () => {
    await embeddedRedisRecord(dataDir, 'tsk-redis', {}).write(url);
    expect(await embeddedRedisRecord(dataDir, 'tsk-redis', { DOCKER_HOST: 'tcp://other:2376' }).read()).toBeUndefined();
    expect(await embeddedRedisRecord(dataDir, 'tsk-redis-test', {}).read()).toBeUndefined();
  });

  it('is not used when others could read or write it, or when it names another host', async () => {
    const record = embeddedRedisRecord(dataDir, 'tsk-redis', {});
    await record.write(url);
    const file = join(dataDir, 'embedded-redis', 'tsk-redis.json');
    await chmod(file, 0o644);
    expect(await record.read()).toBeUndefined();
    await chmod(file, 0o600);
    const port = new URL(url).port;
    await writeFile(file, JSON.stringify({ url: `redis://:pw@192.0.2.1:${port}`, dockerHost: '' }), { mode: 0o600 });
    expect(await record.read()).toBeUndefined();
    await writeFile(file, '{not json', { mode: 0o600 });
    expect(await record.read()).toBeUndefined();
  });
});
