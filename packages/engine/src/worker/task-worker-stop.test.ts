import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newTaskId } from '../common/ids.js';
import { taskDir } from '../common/task-paths.js';
import { createDocker } from '../docker/docker-client.js';
import type { TaskResult, TaskSpec } from '../model/index.js';
import { connectRedis, TaskQueue } from '../queue/index.js';
import type { RunTaskOptions } from '../runner/task-runner.js';
import { createSigningKey, KeyRing, signTask, taskSigner, type SigningKey } from '../signing/index.js';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { taskSpecFixture, workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { RunLedger } from './run-ledger.js';
import { TaskWorker } from './task-worker.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * `TaskWorker.stop` with and without its Redis: a real local redis-server (stopped by its pid to take it
 * away), the real BullMQ consumer, and an executor standing in for the runner that runs until it is
 * cancelled. No Docker: the sandbox is the stand-in's.
 */

let root: string;
let key: SigningKey;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-worker-stop-')));
  key = await createSigningKey(join(root, 'key'), { name: 'owner' });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Runs until its signal aborts (the worker cancelling it), then ends CANCELLED; or at once with `finish`. */
class SandboxStandIn {
  readonly started: string[] = [];
  readonly aborted: string[] = [];
  constructor(private readonly finishAfterMs?: number) {}

  async run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult> {
    this.started.push(spec.id);
    const now = new Date().toISOString();
    const result = (status: TaskResult['status']): TaskResult => ({ id: spec.id, status, branch: undefined, commit: undefined, baseCommit: undefined, error: status === 'CANCELLED' ? 'Cancelled' : undefined, summary: undefined, startedAt: now, finishedAt: new Date().toISOString() });
    const aborted = new Promise<'aborted'>((resolve) => options.signal?.addEventListener('abort', () => resolve('aborted'), { once: true }));
    const finished = new Promise<'finished'>((resolve) => this.finishAfterMs !== undefined && setTimeout(() => resolve('finished'), this.finishAfterMs));
    const how = await Promise.race([aborted, finished]);
    if (how === 'aborted') this.aborted.push(spec.id);
    return result(how === 'aborted' ? 'CANCELLED' : 'COMPLETE');
  }
}

interface Started {
  redis: LocalRedis;
  producer: TaskQueue;
  worker: TaskWorker;
  events: WorkerEvent[];
  executor: SandboxStandIn;
}

async function startWorker(executor: SandboxStandIn): Promise<Started> {
  const redis = await startLocalRedis();
  cleanups.push(() => redis.stop());
  const connections: Redis[] = [await connectRedis({ url: redis.url, purpose: 'cli' }), await connectRedis({ url: redis.url, purpose: 'worker' })];
  cleanups.push(async () => connections.forEach((connection) => connection.disconnect()));
  const [producerConnection, workerConnection] = connections as [Redis, Redis];
  const producer = new TaskQueue({ connection: producerConnection });
  const events: WorkerEvent[] = [];
  const worker = new TaskWorker({
    queue: new TaskQueue({ connection: workerConnection }).forWorker(),
    // Asked only by the reaper's sweep, which these short tests never reach.
    docker: createDocker(),
    executor,
    name: 'w-stop',
    concurrency: 1,
    trust: {
      key,
      ring: new KeyRing({ name: key.name, publicKey: key.publicKey, owner: true }),
      policy: workerPolicyFixture(),
      baseImage: 'debian:bookworm-slim',
      remote: undefined,
      environment: {},
      ownerHome: root,
      ledger: new RunLedger(join(root, `ledger-${newTaskId()}`)),
    },
    dataDir: join(root, 'data'),
    onEvent: (event) => events.push(event),
    timing: { heartbeatIntervalMs: 500, heartbeatTtlMs: 2000, stalledIntervalMs: 2000, lockDurationMs: 5000, cancelPollMs: 500 },
  });
  await worker.start();
  cleanups.push(() => worker.stop({ graceMs: 0 }));
  return { redis, producer, worker, events, executor };
}

async function addTask(producer: TaskQueue): Promise<string> {
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

describe('TaskWorker.stop', () => {
  it('with Redis up: a task that ends within the grace is recorded, and the worker leaves the registry', async () => {
    const { producer, worker, executor } = await startWorker(new SandboxStandIn(300));
    const id = await addTask(producer);
    await vi.waitFor(() => expect(executor.started).toEqual([id]), { timeout: 5000 });
    await worker.stop({ graceMs: 5000 });
    expect((await producer.get(id))?.status).toBe('COMPLETE');
    expect(executor.aborted).toEqual([]);
    expect(await producer.workers()).toEqual([]);
  });

  it('removes, as it stops, the workspaces of tasks ended since its last sweep (a killed predecessor’s, settled elsewhere)', async () => {
    // The first periodic sweep is 5 s away: only the stop can remove them.
    const { producer, worker } = await startWorker(new SandboxStandIn(0));
    const ended = await addTask(producer);
    await vi.waitFor(async () => expect((await producer.get(ended))?.status).toBe('COMPLETE'), { timeout: 5000 });
    const queued = newTaskId(); // no record: a `tsk run` workspace, which shares the folder
    for (const id of [ended, queued]) {
      mkdirSync(join(taskDir(join(root, 'data'), id), 'repo'), { recursive: true });
      writeFileSync(join(taskDir(join(root, 'data'), id), 'repo', 'file'), 'work');
    }
    await worker.stop({ graceMs: 1000 });
    expect(existsSync(taskDir(join(root, 'data'), ended))).toBe(false);
    expect(existsSync(taskDir(join(root, 'data'), queued))).toBe(true);
  });

  it('with Redis up: a task still running at the end of the grace is cancelled and recorded CANCELLED', async () => {
    const { producer, worker, executor } = await startWorker(new SandboxStandIn());
    const id = await addTask(producer);
    await vi.waitFor(() => expect(executor.started).toEqual([id]), { timeout: 5000 });
    await worker.stop({ graceMs: 200 });
    expect(executor.aborted).toEqual([id]);
    expect((await producer.get(id))?.status).toBe('CANCELLED');
  });

  it('an idle worker whose Redis is gone stops', async () => {
    const { redis, worker, events } = await startWorker(new SandboxStandIn());
    await redis.stop();
    await worker.stop({ graceMs: 60_000 });
    expect(events.at(-1)).toEqual({ kind: 'stopped', worker: 'w-stop' });
  });

  it('a worker whose Redis is gone while a task runs: the grace, then the cancel, then it stops without Redis', async () => {
    const { redis, producer, worker, events, executor } = await startWorker(new SandboxStandIn());
    const id = await addTask(producer);
    await vi.waitFor(() => expect(executor.started).toEqual([id]), { timeout: 5000 });
    await redis.stop();
    await worker.stop({ graceMs: 300 });
    expect(executor.aborted).toEqual([id]);
    expect(events).toContainEqual({ kind: 'cancelling', task: id, reason: 'worker stopping' });
    expect(events).toContainEqual({ kind: 'error', message: 'Redis does not answer: stopping without it (tasks not recorded as ended will be settled as lost)' });
    expect(events.at(-1)).toEqual({ kind: 'stopped', worker: 'w-stop' });
  });
});
