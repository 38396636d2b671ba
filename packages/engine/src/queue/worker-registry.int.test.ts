import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { QueueKeys } from './queue-keys.js';
import { connectRedis } from './redis-connection.js';
import { WorkerRegistry, type WorkerReport } from './worker-registry.js';

let server: LocalRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startLocalRedis();
  redis = await connectRedis({ url: server.url, purpose: 'cli' });
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

function report(name: string, overrides: Partial<WorkerReport> = {}): WorkerReport {
  return {
    name,
    host: 'box',
    pid: 100,
    concurrency: 2,
    running: [],
    labels: [],
    version: '0.1.0',
    startedAt: new Date().toISOString(),
    stopping: false,
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkerRegistry (real Redis)', () => {
  it('lists a worker while it beats and forgets it when it leaves or its heartbeat lapses', async () => {
    const keys = new QueueKeys('reg1');
    const registry = new WorkerRegistry(redis, keys);
    await registry.beat(report('gpu-1', { labels: ['gpu'], running: ['Abc_1234'] }), 10_000);
    await registry.beat(report('cpu-1'), 300);
    const listed = await registry.list();
    expect(listed.map((worker) => [worker.name, worker.labels, worker.running])).toEqual([
      ['cpu-1', [], []],
      ['gpu-1', ['gpu'], ['Abc_1234']],
    ]);
    expect(listed[0]?.sinceBeatMs).toBeLessThan(1000);

    await sleep(600);
    expect((await registry.list()).map((worker) => worker.name)).toEqual(['gpu-1']);
    expect(await registry.alive(['gpu-1', 'cpu-1'])).toEqual(new Map([['gpu-1', true], ['cpu-1', false]]));
    // A worker that died is still a name the reaper knows (it must clean up after it)…
    expect((await registry.names()).sort()).toEqual(['cpu-1', 'gpu-1']);
    // …and one that stopped cleanly is not.
    await registry.leave('gpu-1');
    expect(await registry.list()).toEqual([]);
    expect(await registry.names()).toEqual(['cpu-1']);
  });

  it('remembers the labels served in the last 10 minutes, by the Redis server’s clock', async () => {
    const keys = new QueueKeys('reg2');
    const registry = new WorkerRegistry(redis, keys);
    await registry.beat(report('gpu-1', { labels: ['gpu', 'cuda12'] }), 200);
    const [seconds] = await redis.time();
    await redis.zadd(keys.labelsSeen, Number(seconds) * 1000 - 11 * 60_000, 'arm64');
    await sleep(400);
    const fleet = await registry.fleet();
    expect(fleet.live).toEqual([]);
    expect([...fleet.labelsSeen].sort()).toEqual(['cuda12', 'gpu']);
  });

  it('shows only checked values of whatever else Redis holds', async () => {
    const keys = new QueueKeys('reg3');
    const registry = new WorkerRegistry(redis, keys);
    const now = Date.now();
    await redis.zadd(keys.workers, now, 'evil\x1b]0;pwned\x07', now, 'junk-1', now, 'old-1');
    await redis.set(keys.heartbeat('evil\x1b]0;pwned\x07'), '{}', 'PX', 10_000);
    await redis.set(keys.heartbeat('junk-1'), '\x1b[2J{not json', 'PX', 10_000);
    await redis.set(keys.heartbeat('old-1'), JSON.stringify({ pid: 7, at: new Date().toISOString() }), 'PX', 10_000);
    await redis.zadd(keys.labelsSeen, now, 'GPU\x1b[31m');
    const listed = await registry.list();
    expect(listed.map((worker) => [worker.name, worker.host, worker.pid, worker.labels])).toEqual([
      ['junk-1', undefined, undefined, []],
      ['old-1', undefined, 7, []],
    ]);
    expect([...(await registry.fleet()).labelsSeen]).toEqual([]);
  });
});
