import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newTaskId } from '../common/ids.js';
import { createDocker } from '../docker/docker-client.js';
import type { TaskResult, TaskSpec } from '../model/index.js';
import { connectRedis, TaskQueue } from '../queue/index.js';
import type { RunTaskOptions } from '../runner/task-runner.js';
import { createSigningKey, KeyRing, signTask, taskSigner, type SigningKey } from '../signing/index.js';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { parsePrometheusText, type ParsedFamily } from '../test-utils/prometheus-parser.js';
import { taskSpecFixture, workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { RunLedger } from './run-ledger.js';
import { TaskWorker } from './task-worker.js';
import type { WorkerEvent } from './worker-events.js';
import { WorkerServer } from './worker-server.js';

/**
 * A worker server's `/metrics` while it works: a real local redis-server, the real BullMQ consumer, and an
 * executor standing in for the runner that runs until it is cancelled (no Docker). Its numbers must be the
 * worker's own (capacity, running) and the queue's as BullMQ holds them.
 */

let root: string;
let key: SigningKey;
let redis: LocalRedis;
let connections: Redis[];
let producer: TaskQueue;
let server: WorkerServer;
let metricsUrl: string;
const started: string[] = [];

/** Runs until the worker cancels it. */
const executor = {
  async run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult> {
    started.push(spec.id);
    const startedAt = new Date().toISOString();
    await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
    return { id: spec.id, status: 'CANCELLED', branch: undefined, commit: undefined, baseCommit: undefined, error: 'Cancelled', summary: undefined, startedAt, finishedAt: new Date().toISOString() };
  },
};

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-worker-metrics-')));
  key = await createSigningKey(join(root, 'key'), { name: 'owner' });
  redis = await startLocalRedis();
  connections = [await connectRedis({ url: redis.url, purpose: 'cli' }), await connectRedis({ url: redis.url, purpose: 'worker' })];
  producer = new TaskQueue({ connection: connections[0]! });
  const queue = new TaskQueue({ connection: connections[1]! });
  const events: WorkerEvent[] = [];
  const worker = new TaskWorker({
    queue: queue.forWorker(),
    // Asked only by the reaper's sweep, which this short test never reaches.
    docker: createDocker(),
    executor,
    name: 'w-metrics',
    concurrency: 2,
    trust: {
      key,
      ring: new KeyRing({ name: key.name, publicKey: key.publicKey, owner: true }),
      policy: workerPolicyFixture(),
      baseImage: 'debian:bookworm-slim',
      remote: undefined,
      environment: {},
      ownerHome: root,
      ledger: new RunLedger(join(root, 'ledger')),
    },
    dataDir: join(root, 'data'),
    onEvent: (event) => events.push(event),
    timing: { heartbeatIntervalMs: 500, heartbeatTtlMs: 2000, stalledIntervalMs: 2000, lockDurationMs: 5000, cancelPollMs: 500 },
    startIntervalMs: 0,
  });
  server = new WorkerServer({
    worker,
    queue,
    runtimeDir: join(root, 'run'),
    cleanup: { dataDir: join(root, 'data') },
    autoCleanAgeDays: 0,
    health: { host: '127.0.0.1', port: 0 },
    quitWhenEmpty: false,
    graceMs: 0,
    concurrency: 2,
    redisUrl: redis.url,
    onEvent: (event) => events.push(event),
  });
  await server.start();
  const ready = events.find((event) => event.kind === 'ready');
  metricsUrl = String(ready?.kind === 'ready' ? ready.health : '').replace(/\/healthz$/, '/metrics');
});

afterAll(async () => {
  await server?.stop(0);
  await producer?.close();
  for (const connection of connections ?? []) connection.disconnect();
  await redis?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function addTask(): Promise<string> {
  const id = newTaskId();
  const spec = taskSpecFixture({
    id,
    repoPath: root,
    source: { kind: 'local', repoPath: root, ref: `refs/tsk/snapshots/${id}`, commit: 'b'.repeat(40) },
    branch: `tsk/generic/demo/${id}`,
    createdAt: new Date().toISOString(),
    signer: taskSigner(key),
  });
  await producer.add(signTask(spec, key));
  return id;
}

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

const value = (families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}) =>
  families.get(name)?.samples.find((sample) => Object.entries(labels).every(([label, wanted]) => sample.labels[label] === wanted))?.value;

describe('a worker server’s /metrics (real Redis, real BullMQ consumer)', () => {
  it('says what the worker runs and what the queue holds, as it changes', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const idle = await scrape();
    expect(value(idle, 'tsk_worker_capacity', { worker: 'w-metrics' })).toBe(2);
    expect(value(idle, 'tsk_worker_running', { worker: 'w-metrics' })).toBe(0);
    expect(value(idle, 'tsk_worker_redis_up', { worker: 'w-metrics' })).toBe(1);
    expect(value(idle, 'tsk_queue_jobs', { state: 'waiting' })).toBe(0);

    const ids = [await addTask(), await addTask(), await addTask()];
    await vi.waitFor(() => expect(started).toHaveLength(2), { timeout: 10_000 });
    const busy = await scrape();
    expect(value(busy, 'tsk_worker_running', { worker: 'w-metrics' })).toBe(2);
    expect(value(busy, 'tsk_queue_jobs', { state: 'active' })).toBe(2);
    expect(value(busy, 'tsk_queue_jobs', { state: 'waiting' })).toBe(1);
    // The same numbers the queue itself gives.
    expect(await producer.jobCounts()).toEqual({ waiting: 1, prioritized: 0, delayed: 0, active: 2 });
    expect(started.every((id) => ids.includes(id))).toBe(true);
  });
});
