import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tskVersion } from '../common/tsk-version.js';
import { createDocker } from '../docker/index.js';
import { silentSink } from '../logging/index.js';
import type { TaskResult, TaskSpec } from '../model/index.js';
import { connectRedis, TaskQueue, type RedisPurpose, type TaskView } from '../queue/index.js';
import { createSigningKey, KeyRing, signTask, taskSigner, type SignedTask, type SigningKey } from '../signing/index.js';
import { createTaskSpec } from '../tasks/index.js';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { FAST_TIMING } from '../test-utils/queue-harness.js';
import { rawJobQueue, rawTaskStore } from '../test-utils/queue-internals.js';
import { workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { RunLedger } from './run-ledger.js';
import type { TaskExecutor } from './task-processor.js';
import { TaskWorker } from './task-worker.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * Which worker takes which task, on a real Redis and real BullMQ: labels (`--requires`), repositories on
 * other machines, stopping workers and cancels while a job is handed back. The tasks run on an executor
 * that only records them: this is about routing, not sandboxes, so no Docker is involved.
 */

/** Short enough that a handed-back job comes round several times within a test. */
const HAND_BACK_MS = 300;

let redis: LocalRedis;
let home: string;
let repo: string;
let env: NodeJS.ProcessEnv;
let key: SigningKey;
const closers: (() => Promise<unknown>)[] = [];

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore' });
}

function makeRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Test User');
  git(dir, 'config', 'user.email', 'test@example.com');
  writeFileSync(join(dir, 'README.md'), '# routing\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

beforeAll(async () => {
  redis = await startLocalRedis();
  home = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-routing-')));
  env = { ...process.env, TSK_CONFIG_HOME: join(home, 'config'), TSK_DATA_HOME: join(home, 'data'), TSK_RUNTIME_DIR: join(home, 'run') };
  repo = makeRepo(join(home, 'repo'));
  key = await createSigningKey(join(home, 'key'), { name: 'owner' });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

afterAll(async () => {
  await redis?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function openQueue(namespace: string, purpose: RedisPurpose = 'cli'): Promise<TaskQueue> {
  const connection = await connectRedis({ url: redis.url, purpose });
  const queue = new TaskQueue({ connection, namespace });
  closers.push(async () => {
    await queue.close();
    connection.disconnect();
  });
  return queue;
}

/** Queue a task as `tsk add` does; returns its spec. */
async function add(queue: TaskQueue, prompt: string, options: { requires?: string[]; repoPath?: string } = {}): Promise<TaskSpec> {
  const signed = await task(prompt, options);
  await queue.add(signed);
  return signed.spec;
}

async function task(prompt: string, options: { requires?: string[]; repoPath?: string } = {}): Promise<SignedTask> {
  const spec = await createTaskSpec({
    repoPath: options.repoPath ?? repo,
    name: 'route',
    prompt,
    agent: 'script',
    project: 'routing',
    requires: options.requires,
    env,
    log: silentSink,
    signer: taskSigner(key),
  });
  return signTask(spec, key);
}

/** Records which tasks it ran; a task can be held until the test releases it. */
class RecordingExecutor implements TaskExecutor {
  readonly ran: string[] = [];
  private readonly held = new Map<string, () => void>();
  private readonly holding = new Set<string>();

  hold(id: string): void {
    this.holding.add(id);
  }

  release(id: string): void {
    this.holding.delete(id);
    this.held.get(id)?.();
  }

  async run(spec: TaskSpec, options: { signal?: AbortSignal }): Promise<TaskResult> {
    this.ran.push(spec.id);
    const startedAt = new Date().toISOString();
    if (this.holding.has(spec.id)) {
      await new Promise<void>((resolve) => {
        this.held.set(spec.id, resolve);
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    const cancelled = options.signal?.aborted === true;
    return {
      id: spec.id,
      status: cancelled ? 'CANCELLED' : 'COMPLETE',
      branch: undefined,
      commit: undefined,
      baseCommit: spec.source.commit,
      error: cancelled ? 'Cancelled' : undefined,
      summary: 'No changes',
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  }
}

interface StartedWorker {
  worker: TaskWorker;
  executor: RecordingExecutor;
  events: WorkerEvent[];
  /** Its own connection to Redis (a test can take its machine off the network). */
  connection: Awaited<ReturnType<typeof connectRedis>>;
}

/** A worker as on its own machine: its own data folder and ledger, its own `[worker] labels`. */
async function startWorker(namespace: string, name: string, labels: string[] = [], concurrency = 1): Promise<StartedWorker> {
  const connection = await connectRedis({ url: redis.url, purpose: 'worker' });
  const taskQueue = new TaskQueue({ connection, namespace });
  closers.push(async () => {
    await taskQueue.close();
    connection.disconnect();
  });
  const queue = taskQueue.forWorker();
  const executor = new RecordingExecutor();
  const events: WorkerEvent[] = [];
  const dataDir = join(home, 'workers', name);
  const worker = new TaskWorker({
    queue,
    docker: createDocker(),
    executor,
    name,
    concurrency,
    trust: {
      key,
      ring: KeyRing.ownerOnly(key),
      policy: workerPolicyFixture({ labels }),
      baseImage: 'debian:trixie-slim',
      remote: undefined,
      environment: process.env,
      ownerHome: home,
      ledger: new RunLedger(join(dataDir, 'ledger')),
    },
    dataDir,
    timing: { ...FAST_TIMING, handBackDelayMs: HAND_BACK_MS },
    onEvent: (event) => events.push(event),
  });
  await worker.start();
  closers.push(() => worker.stop({ graceMs: 0 }));
  return { worker, executor, events, connection };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What anyone with access to Redis sees of `namespace`: BullMQ's jobs, and the records as stored. */
async function observe(namespace: string) {
  const connection = await connectRedis({ url: redis.url, purpose: 'cli' });
  const jobs = rawJobQueue(connection, namespace);
  closers.push(async () => {
    await jobs.close();
    connection.disconnect();
  });
  return { jobs, store: rawTaskStore(connection, namespace) };
}

async function view(queue: TaskQueue, id: string): Promise<TaskView> {
  const found = await queue.get(id);
  if (found === undefined) throw new Error(`no task ${id}`);
  return found;
}

describe('routing tasks between workers (real Redis, real BullMQ)', () => {
  it('runs a --requires gpu task only on the worker with the label; until one starts it waits, visibly, without using its one attempt', async () => {
    const ns = `r${Date.now()}a`;
    const producer = await openQueue(ns);
    const raw = await observe(ns);
    const cpu = await startWorker(ns, 'cpu-1');
    const gpuTask = await add(producer, 'nvidia-smi', { requires: ['gpu'] });
    const plain = await add(producer, 'true');

    const [plainDone] = await producer.waitFor([plain.id], { timeoutMs: 30_000 });
    expect(plainDone).toMatchObject({ status: 'COMPLETE', worker: 'cpu-1' });
    const waiting = await until('the note', async () => {
      const current = await view(producer, gpuTask.id);
      return current.note === 'no worker with label gpu seen in the last 10 min' ? current : undefined;
    });
    expect(waiting.status).toBe('QUEUED');
    expect((await producer.stored(gpuTask.id)).record?.note).toBe('waiting for a worker with label gpu');

    // Handed back again and again for longer than a lock lasts and the stalled checker looks: the job is
    // never stalled, failed or counted as an attempt.
    await new Promise((resolve) => setTimeout(resolve, FAST_TIMING.lockDurationMs! + 2 * FAST_TIMING.stalledIntervalMs!));
    const job = await raw.jobs.getJob(gpuTask.id);
    expect(['delayed', 'waiting', 'active']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(0);
    expect(job?.failedReason).toBeUndefined();
    expect((await view(producer, gpuTask.id)).status).toBe('QUEUED');
    expect(cpu.executor.ran).toEqual([plain.id]);
    // Reported once, however often the job came round.
    expect(cpu.events.filter((event) => event.kind === 'handed-back')).toEqual([
      { kind: 'handed-back', task: gpuTask.id, reason: 'waiting for a worker with label gpu' },
    ]);

    const gpu = await startWorker(ns, 'gpu-1', ['gpu']);
    const [done] = await producer.waitFor([gpuTask.id], { timeoutMs: 30_000 });
    expect(done).toMatchObject({ status: 'COMPLETE', worker: 'gpu-1', note: undefined });
    expect(gpu.executor.ran).toEqual([gpuTask.id]);
    expect(cpu.executor.ran).toEqual([plain.id]);
    const finished = await raw.jobs.getJob(gpuTask.id);
    expect(await finished?.getState()).toBe('completed');
    expect(finished?.attemptsMade).toBe(1);
    expect((await producer.stored(gpuTask.id)).record?.note).toBeUndefined();
  });

  it('lists live workers with host, capacity, running tasks, labels and state; a stopping worker takes nothing new and then drops out', async () => {
    const ns = `r${Date.now()}b`;
    const producer = await openQueue(ns);
    const gpu = await startWorker(ns, 'gpu-2', ['gpu', 'cuda12'], 1);
    const signed = await task('train', { requires: ['gpu'] });
    const busy = signed.spec;
    gpu.executor.hold(busy.id);
    await producer.add(signed);
    await until('the busy task to run', async () => gpu.executor.ran.includes(busy.id));
    const next = await add(producer, 'train more', { requires: ['gpu'] });

    expect((await view(producer, next.id)).note).toBe('waiting for a worker with label gpu');
    const [listed] = await until('the running task in the report', async () => {
      const workers = await producer.workers();
      return workers[0]?.running.length === 1 ? workers : undefined;
    });
    expect(listed).toMatchObject({
      name: 'gpu-2',
      host: hostname(),
      pid: process.pid,
      concurrency: 1,
      running: [busy.id],
      labels: ['gpu', 'cuda12'],
      version: tskVersion(),
      state: 'running',
    });
    expect(listed?.sinceBeatMs).toBeLessThan(5000);

    const stopped = gpu.worker.stop({ graceMs: 20_000 });
    await until('the worker to show as stopping', async () => (await producer.workers())[0]?.state === 'stopping');
    gpu.executor.release(busy.id);
    await stopped;
    expect(await producer.workers()).toEqual([]);
    expect((await view(producer, busy.id)).status).toBe('COMPLETE');
    expect((await view(producer, next.id)).status).toBe('QUEUED');
    expect(gpu.executor.ran).toEqual([busy.id]);
  });

  it('ends CANCELLED a task cancelled while its job is handed back, and it never runs', async () => {
    const ns = `r${Date.now()}c`;
    const producer = await openQueue(ns);
    const raw = await observe(ns);
    await startWorker(ns, 'cpu-3');
    const first = await add(producer, 'a', { requires: ['gpu'] });
    const second = await add(producer, 'b', { requires: ['gpu'] });
    for (const spec of [first, second]) {
      await until(`${spec.id} to be handed back`, async () => (await producer.stored(spec.id)).record?.note !== undefined);
    }

    expect(await producer.cancel(first.id)).toEqual({ kind: 'cancelled' });
    expect(await view(producer, first.id)).toMatchObject({ status: 'CANCELLED', note: undefined });
    expect(await raw.jobs.getJob(first.id)).toBeUndefined();

    // A cancel whose job removal lost the race (the job was with a worker): the next worker to hand it
    // back sees the request and ends the task.
    expect(await raw.store.requestCancel(second.id)).toBe('QUEUED');
    await until('the flagged task to end', async () => (await view(producer, second.id)).status === 'CANCELLED');

    const gpu = await startWorker(ns, 'gpu-3', ['gpu']);
    await new Promise((resolve) => setTimeout(resolve, 3 * HAND_BACK_MS + 1000));
    expect(gpu.executor.ran).toEqual([]);
    expect((await producer.getMany([first.id, second.id])).map((t) => t.status)).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('hands back a task whose repository is not on its machine, and runs it once the repository is there', async () => {
    const ns = `r${Date.now()}d`;
    const producer = await openQueue(ns);
    const elsewhere = makeRepo(join(home, 'elsewhere'));
    const signed = await task('true', { repoPath: elsewhere });
    const spec = signed.spec;
    // The producer's machine, as seen from a worker on another machine: the path does not exist there.
    renameSync(elsewhere, `${elsewhere}-away`);
    await producer.add(signed);
    const worker = await startWorker(ns, 'cpu-4');
    const waiting = await until('the note', async () => {
      const current = await view(producer, spec.id);
      return current.note !== undefined ? current : undefined;
    });
    expect(waiting).toMatchObject({ status: 'QUEUED', note: `waiting for a worker on the machine that has ${elsewhere}` });
    expect(worker.executor.ran).toEqual([]);

    renameSync(`${elsewhere}-away`, elsewhere);
    const [done] = await producer.waitFor([spec.id], { timeoutMs: 30_000 });
    expect(done).toMatchObject({ status: 'COMPLETE', worker: 'cpu-4' });
    expect(worker.executor.ran).toEqual([spec.id]);
  });

  it('keeps the lost-worker guarantee across machines: a worker that vanishes mid-task leaves it FAILED "worker … lost", and its late end changes nothing', async () => {
    const ns = `r${Date.now()}e`;
    const producer = await openQueue(ns);
    const doomed = await startWorker(ns, 'doomed-1');
    const signed = await task('sleep forever');
    const id = signed.spec.id;
    doomed.executor.hold(id);
    await producer.add(signed);
    await until('the task to run', async () => doomed.executor.ran.includes(id));

    // Its machine drops off the network: no more heartbeats, no lock renewed. Another worker, elsewhere,
    // records the loss (its sweep, by the one rule), and lists only itself.
    doomed.connection.disconnect();
    // Whatever happens below, bring it back before the workers stop (closers run last-in, first-out).
    closers.push(async () => {
      if (doomed.connection.status !== 'ready') await doomed.connection.connect().catch(() => undefined);
      doomed.executor.release(id);
    });
    const survivor = await startWorker(ns, 'survivor-1');
    await until('the loss to be recorded', async () => (await producer.stored(id)).record?.status === 'FAILED');
    expect(await view(producer, id)).toMatchObject({ status: 'FAILED', error: 'worker doomed-1 lost', worker: 'doomed-1' });
    expect(survivor.events).toContainEqual({ kind: 'lost', task: id, worker: 'doomed-1', requeued: false });
    expect((await producer.workers()).map((worker) => worker.name)).toEqual(['survivor-1']);

    // Back on the network, the lost worker finishes the task: the recorded outcome stands.
    await doomed.connection.connect();
    doomed.executor.release(id);
    await until('the lost worker to finish', async () => doomed.events.some((event) => event.kind === 'finished' && event.task === id));
    expect(await view(producer, id)).toMatchObject({ status: 'FAILED', error: 'worker doomed-1 lost' });
    expect(survivor.executor.ran).toEqual([]);
  });
});
