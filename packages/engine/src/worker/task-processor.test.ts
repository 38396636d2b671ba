import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newTaskId } from '../common/ids.js';
import type { TaskResult, TaskSpec } from '../model/index.js';
import { connectRedis, TaskQueue, type JobVerdict, type WorkerQueue } from '../queue/index.js';
import type { RunTaskOptions } from '../runner/task-runner.js';
import { createSigningKey, KeyRing, signTask, taskSigner, type SigningKey } from '../signing/index.js';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { taskSpecFixture, workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { RunLedger } from './run-ledger.js';
import { RunningTasks } from './running-tasks.js';
import { TaskProcessor, type TaskExecutor } from './task-processor.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * A task's life cycle on a worker (verify → leave to others → check → claim → run → end), through the real
 * queue on a real local redis-server (the claim, hand-back, delay and end are Lua scripts) with an
 * executor that stands in for the runner: no Docker, seconds.
 */

let redis: LocalRedis;
let root: string;
let repo: string;
let key: SigningKey;
let stranger: SigningKey;
let connection: Awaited<ReturnType<typeof connectRedis>>;

beforeAll(async () => {
  redis = await startLocalRedis();
  connection = await connectRedis({ url: redis.url, purpose: 'worker' });
  root = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-processor-')));
  repo = root;
  key = await createSigningKey(join(root, 'key'), { name: 'owner' });
  stranger = await createSigningKey(join(root, 'stranger'), { name: 'stranger' });
});

afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A runner stand-in: answers each run with what the test says, and remembers what it was asked. */
class FakeExecutor implements TaskExecutor {
  readonly runs: { spec: TaskSpec; options: RunTaskOptions }[] = [];
  constructor(private readonly answer: (spec: TaskSpec, options: RunTaskOptions) => Promise<Partial<TaskResult>> | Partial<TaskResult>) {}

  async run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult> {
    this.runs.push({ spec, options });
    const now = new Date().toISOString();
    return { id: spec.id, status: 'COMPLETE', branch: undefined, commit: undefined, baseCommit: spec.source.commit, error: undefined, summary: undefined, startedAt: now, finishedAt: now, ...(await this.answer(spec, options)) };
  }
}

interface Setup {
  queue: TaskQueue;
  worker: WorkerQueue;
  processor: TaskProcessor;
  executor: FakeExecutor;
  events: WorkerEvent[];
  running: RunningTasks;
  stopping: { value: boolean };
  ledger: RunLedger;
}

let namespace = 0;

function setUp(answer: ConstructorParameters<typeof FakeExecutor>[0] = () => ({}), options: { labels?: string[] } = {}): Setup {
  const queue = new TaskQueue({ connection, namespace: `p${process.pid}x${namespace++}` });
  const worker = queue.forWorker();
  const executor = new FakeExecutor(answer);
  const events: WorkerEvent[] = [];
  const running = new RunningTasks();
  const stopping = { value: false };
  const ledger = new RunLedger(join(root, `ledger-${namespace}`));
  const processor = new TaskProcessor({
    queue: worker,
    executor,
    worker: 'w-1',
    trust: {
      key,
      ring: new KeyRing({ name: key.name, publicKey: key.publicKey, owner: true }),
      policy: workerPolicyFixture({ labels: options.labels ?? [] }),
      baseImage: 'debian:bookworm-slim',
      remote: undefined,
      environment: {},
      ownerHome: root,
      ledger,
    },
    dataDir: join(root, 'data'),
    running,
    notify: () => undefined,
    onEvent: (event) => events.push(event),
    isStopping: () => stopping.value,
    handBackDelayMs: 1000,
  });
  return { queue, worker, processor, executor, events, running, stopping, ledger };
}

function spec(overrides: Partial<TaskSpec> = {}, signer: SigningKey = key): TaskSpec {
  const id = overrides.id ?? newTaskId();
  return taskSpecFixture({
    id,
    repoPath: repo,
    source: { kind: 'local', repoPath: repo, ref: `refs/tsk/snapshots/${id}`, commit: 'b'.repeat(40) },
    branch: `tsk/generic/demo/${id}`,
    createdAt: new Date().toISOString(),
    signer: taskSigner(signer),
    ...overrides,
  });
}

/** Queue a task as `tsk add` does and hand the worker its job as BullMQ would. */
async function queued(setup: Setup, task: TaskSpec, signer: SigningKey = key): Promise<{ id: string; data: unknown }> {
  const signed = signTask(task, signer);
  await setup.queue.add(signed);
  return { id: task.id, data: (await setup.queue.stored(task.id)).job };
}

async function record(setup: Setup, id: string) {
  return (await setup.queue.stored(id)).record;
}

describe('TaskProcessor: verify → claim → run → end (real queue on a local redis-server, fake executor)', () => {
  let setup: Setup;
  beforeEach(() => {
    setup = setUp((task) => ({ status: 'COMPLETE', branch: task.branch, commit: 'c'.repeat(40), summary: 'done' }));
  });

  it('runs a signed task once and records its outcome, signed by the worker', async () => {
    const job = await queued(setup, spec());
    const verdict = await setup.processor.process(job);
    expect(verdict).toEqual({ kind: 'done', outcome: { status: 'COMPLETE', branch: `tsk/generic/demo/${job.id}`, error: null } });
    expect(setup.executor.runs).toHaveLength(1);
    expect(setup.executor.runs[0]?.spec.id).toBe(job.id);
    const ended = await record(setup, job.id);
    expect(ended).toMatchObject({ status: 'COMPLETE', worker: 'w-1', commit: 'c'.repeat(40), summary: 'done' });
    expect(setup.running.size).toBe(0);
    expect(setup.events.map((event) => event.kind)).toEqual(['started', 'finished']);
  });

  it('does not run the same job twice: the second delivery finds the task ended', async () => {
    const job = await queued(setup, spec());
    await setup.processor.process(job);
    const again = await setup.processor.process(job);
    expect(again).toEqual({ kind: 'done', outcome: { status: 'COMPLETE', branch: null, error: 'already COMPLETE' } });
    expect(setup.executor.runs).toHaveLength(1);
  });

  it('records a failed run FAILED with the runner’s error', async () => {
    const failing = setUp(() => ({ status: 'FAILED', error: 'Agent exited with code 3' }));
    const job = await queued(failing, spec());
    expect(await failing.processor.process(job)).toEqual({ kind: 'done', outcome: { status: 'FAILED', branch: null, error: 'Agent exited with code 3' } });
    expect(await record(failing, job.id)).toMatchObject({ status: 'FAILED', error: 'Agent exited with code 3' });
  });

  it('a cancel while it runs: the executor sees its signal, the task ends CANCELLED with the reason', async () => {
    const cancelling = setUp(async (task, options) => {
      cancelling.running.cancel(task.id, 'tsk cancel');
      expect(options.signal?.aborted).toBe(true);
      return { status: 'CANCELLED', error: 'Cancelled' };
    });
    const job = await queued(cancelling, spec());
    expect(await cancelling.processor.process(job)).toEqual({ kind: 'done', outcome: { status: 'CANCELLED', branch: null, error: 'tsk cancel' } });
    expect(await record(cancelling, job.id)).toMatchObject({ status: 'CANCELLED', error: 'tsk cancel' });
  });

  it('a cancel that arrived before the claim: CANCELLED, never run', async () => {
    const job = await queued(setup, spec());
    await setup.queue.cancel(job.id);
    const verdict = await setup.processor.process(job);
    expect(verdict.kind).toBe('done');
    expect(setup.executor.runs).toHaveLength(0);
    expect((await record(setup, job.id))?.status).toBe('CANCELLED');
  });
});

describe('TaskProcessor refuses before anything runs', () => {
  it('a job id that is not a task id', async () => {
    const setup = setUp();
    expect(await setup.processor.process({ id: 'not a task', data: {} })).toEqual({ kind: 'refused', reason: 'job not a task is not a tsk task' });
  });

  it('a payload altered after signing: FAILED "refused", never run', async () => {
    const setup = setUp();
    const task = spec();
    const signed = signTask(task, key);
    await setup.queue.add(signed);
    const altered = { ...signed.job, spec: signed.job.spec.replace('echo hi', 'rm -rf ~') };
    const verdict = (await setup.processor.process({ id: task.id, data: altered })) as Extract<JobVerdict, { kind: 'refused' }>;
    expect(verdict.kind).toBe('refused');
    expect(setup.executor.runs).toHaveLength(0);
    expect((await record(setup, task.id))?.error).toMatch(/^refused: /);
  });

  it('a job signed by a key the worker does not trust', async () => {
    const setup = setUp();
    const task = spec({}, stranger);
    const verdict = await setup.processor.process(await queued(setup, task, stranger));
    expect(verdict.kind).toBe('refused');
    expect(setup.executor.runs).toHaveLength(0);
    expect(await record(setup, task.id)).toMatchObject({ status: 'FAILED' });
  });

  it('a job queued more than 30 days ago', async () => {
    const setup = setUp();
    const task = spec({ createdAt: new Date(Date.now() - 31 * 86_400_000).toISOString() });
    const verdict = (await setup.processor.process(await queued(setup, task))) as Extract<JobVerdict, { kind: 'refused' }>;
    expect(verdict.kind).toBe('refused');
    expect(verdict.reason).toContain('more than 30 days ago');
  });

  it('a task this machine already ran, queued again under the same id', async () => {
    const setup = setUp();
    const task = spec();
    const job = await queued(setup, task);
    await setup.ledger.begin(task.id);
    await setup.ledger.finish(task.id);
    const verdict = await setup.processor.process(job);
    expect(verdict).toMatchObject({ kind: 'done', outcome: { status: 'FAILED' } });
    expect((await record(setup, task.id))?.error).toContain('already ran on this machine');
    expect(setup.executor.runs).toHaveLength(0);
  });
});

describe('TaskProcessor hands back what another worker should take', () => {
  it('a task requiring a label this worker lacks: QUEUED with a note, unclaimed, said once', async () => {
    const setup = setUp();
    const task = spec({ requires: ['gpu'] });
    const job = await queued(setup, task);
    expect(await setup.processor.process(job)).toEqual({ kind: 'hand-back', delayMs: 1000 });
    expect(await setup.processor.process(job)).toEqual({ kind: 'hand-back', delayMs: 1000 });
    expect(await record(setup, task.id)).toMatchObject({ status: 'QUEUED', worker: undefined, note: 'waiting for a worker with label gpu' });
    expect(setup.events.filter((event) => event.kind === 'handed-back')).toHaveLength(1);
    expect(setup.executor.runs).toHaveLength(0);
  });

  it('a task whose repository is not on this machine', async () => {
    const setup = setUp();
    const missing = join(root, 'elsewhere');
    const id = newTaskId();
    const task = spec({ id, repoPath: missing, source: { kind: 'local', repoPath: missing, ref: `refs/tsk/snapshots/${id}`, commit: 'b'.repeat(40) } });
    expect(await setup.processor.process(await queued(setup, task))).toEqual({ kind: 'hand-back', delayMs: 1000 });
    expect((await record(setup, task.id))?.note).toBe(`waiting for a worker on the machine that has ${missing}`);
  });

  it('any task while the worker is stopping, and a stopping worker’s hand-back of a cancelled task ends it', async () => {
    const setup = setUp();
    setup.stopping.value = true;
    const task = spec();
    const job = await queued(setup, task);
    expect(await setup.processor.process(job)).toEqual({ kind: 'hand-back', delayMs: 1000 });
    expect((await record(setup, task.id))?.status).toBe('QUEUED');
    await setup.queue.cancel(task.id);
    expect(await setup.processor.process(job)).toMatchObject({ kind: 'done', outcome: { status: 'CANCELLED' } });
  });
});

describe('TaskProcessor puts a rate-limited task back DELAYED', () => {
  it('DELAYED until its reset, then run again from the queue by the same machine', async () => {
    let calls = 0;
    const retryAt = new Date(Date.now() + 60_000).toISOString();
    const setup = setUp(() => (++calls === 1 ? { status: 'FAILED', error: `rate limited until ${retryAt}`, retryAt } : { status: 'COMPLETE' }));
    const task = spec();
    const job = await queued(setup, task);
    const verdict = await setup.processor.process(job);
    expect(verdict).toEqual({ kind: 'delay', until: Date.parse(retryAt) });
    expect(await record(setup, task.id)).toMatchObject({ status: 'DELAYED', worker: undefined });
    expect(setup.events.find((event) => event.kind === 'delayed')).toMatchObject({ task: task.id, delays: 1 });
    // The job comes back after the delay: the same machine may run it once more.
    expect(await setup.processor.process(job)).toMatchObject({ kind: 'done', outcome: { status: 'COMPLETE' } });
    expect(calls).toBe(2);
  });

  it('a cancel pending when the limit is hit ends it CANCELLED instead', async () => {
    const setup = setUp(async (task) => {
      expect(await setup.queue.cancel(task.id)).toEqual({ kind: 'stopping' });
      return { status: 'FAILED', error: 'rate limited', retryAt: new Date(Date.now() + 60_000).toISOString() };
    });
    // Alive (its heartbeat), or the queue would count the running task lost and `tsk cancel` would say it ended.
    await setup.worker.beat({ name: 'w-1', host: 'h', pid: 1, concurrency: 1, running: [], labels: [], version: '0', startedAt: new Date().toISOString(), stopping: false }, 60_000);
    const task = spec();
    // The cancel is recorded; this processor is not listening for it, so the run's result comes back first.
    expect(await setup.processor.process(await queued(setup, task))).toMatchObject({ kind: 'done', outcome: { status: 'CANCELLED' } });
  });
});
