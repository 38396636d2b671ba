import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskResult, TaskSpec } from '../model/index.js';
import type { TaskQueue, TaskView } from '../queue/index.js';
import { KeyRing, peekJob, signTask } from '../signing/index.js';
import { QueueHarness } from '../test-utils/queue-harness.js';
import type { TaskExecutor } from './task-processor.js';
import type { WorkerEvent } from './worker-events.js';

let harness: QueueHarness;

beforeAll(async () => {
  harness = await QueueHarness.start();
  await harness.warmUp();
});

afterEach(async () => {
  await harness.closeAll();
});

afterAll(async () => {
  await harness?.stop();
});

async function add(queue: TaskQueue, prompt: string, options: { name?: string; parent?: string } = {}): Promise<TaskSpec> {
  const task = await harness.task(prompt, options);
  await queue.add(task);
  return task.spec;
}

async function statusOf(queue: TaskQueue, id: string): Promise<TaskView> {
  const view = await queue.get(id);
  if (!view) throw new Error(`no task ${id}`);
  return view;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function fileOnBranch(branch: string, path: string): string {
  return execFileSync('git', ['show', `${branch}:${path}`], { cwd: harness.repo, encoding: 'utf8' });
}

describe('queue workers (real Redis, real Docker)', () => {
  // How much faster two at a time is belongs to the benchmark report (throughput with 1, 2 and 4 workers).
  it('runs 4 tasks on a 2-task worker, 2 at once and never more', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    let running = 0;
    let maxRunning = 0;
    const runner = harness.runner('pair');
    const counting: TaskExecutor = {
      async run(spec, options): Promise<TaskResult> {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        try {
          return await runner.run(spec, options);
        } finally {
          running -= 1;
        }
      },
    };
    const specs = [];
    for (let i = 0; i < 4; i++) specs.push(await add(producer, `sleep 6; echo ${i} > out-${i}.txt`, { name: `par-${i}` }));
    await harness.startWorker(ns, { concurrency: 2, name: 'pair', executor: counting });
    const ended = await producer.waitFor(specs.map((spec) => spec.id), { timeoutMs: 180_000 });

    expect(ended.map((task) => task.status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE']);
    expect(maxRunning).toBe(2);
  });

  it('chains 3 levels: each task starts from its parent’s result, and one added after its parent ended starts at once', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const parent = await add(producer, 'echo 1 > level.txt; echo parent > parent.txt', { name: 'chain-1' });
    const child = await add(producer, 'test "$(cat level.txt)" = 1; echo 2 > level.txt', { name: 'chain-2', parent: parent.id });
    const grandchild = await add(producer, 'test "$(cat level.txt)" = 2; cat parent.txt > seen.txt', { name: 'chain-3', parent: child.id });
    expect((await statusOf(producer, child.id)).status).toBe('WAITING');
    expect((await statusOf(producer, grandchild.id)).status).toBe('WAITING');

    await harness.startWorker(ns, { concurrency: 2 });
    const ended = await producer.waitFor([parent.id, child.id, grandchild.id], { timeoutMs: 120_000 });
    expect(ended.map((task) => [task.status, task.error])).toEqual([
      ['COMPLETE', undefined],
      ['COMPLETE', undefined],
      ['COMPLETE', undefined],
    ]);
    expect(fileOnBranch(grandchild.branch, 'seen.txt')).toBe('parent\n');
    expect(fileOnBranch(grandchild.branch, 'level.txt')).toBe('2\n');
    // The grandchild's branch descends from the child's, which descends from the parent's.
    execFileSync('git', ['merge-base', '--is-ancestor', parent.branch, grandchild.branch], { cwd: harness.repo });

    // A child of an already COMPLETE parent starts at once from its result; a parent that made no changes
    // hands on the commit it started from.
    const late = await add(producer, 'test "$(cat level.txt)" = 1 && test -f parent.txt', { name: 'late', parent: ended[0]?.id });
    const noChange = await add(producer, 'true', { name: 'no-change' });
    const afterNoChange = await add(producer, 'test ! -f parent.txt', { name: 'after-no-change', parent: noChange.id });
    const results = await producer.waitFor([late.id, noChange.id, afterNoChange.id], { timeoutMs: 120_000 });
    expect(results.map((task) => [task.status, task.error])).toEqual([
      ['COMPLETE', undefined],
      ['COMPLETE', undefined],
      ['COMPLETE', undefined],
    ]);
    expect(results[1]?.branch).toBeUndefined();
  });

  it('fails the whole chain below a failed task and cancels it below a cancelled one', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const failing = await add(producer, 'exit 4', { name: 'fails' });
    const failChild = await add(producer, 'true', { name: 'fail-child', parent: failing.id });
    const failGrandchild = await add(producer, 'true', { name: 'fail-grandchild', parent: failChild.id });
    const slow = await add(producer, 'sleep 60', { name: 'slow' });
    const cancelChild = await add(producer, 'true', { name: 'cancel-child', parent: slow.id });
    const cancelGrandchild = await add(producer, 'true', { name: 'cancel-grandchild', parent: cancelChild.id });

    await harness.startWorker(ns, { concurrency: 2 });
    await until('the slow task to run', async () => ((await statusOf(producer, slow.id)).status === 'RUNNING' ? true : undefined));
    expect(await producer.cancel(slow.id)).toEqual({ kind: 'stopping' });

    const ended = await producer.waitFor([failing.id, failChild.id, failGrandchild.id, slow.id, cancelChild.id, cancelGrandchild.id], {
      timeoutMs: 60_000,
    });
    expect(ended.map((task) => [task.status, task.error])).toEqual([
      ['FAILED', 'Agent exited with code 4'],
      ['FAILED', `parent task ${failing.id} failed`],
      ['FAILED', `parent task ${failChild.id} failed`],
      ['CANCELLED', 'Cancelled'],
      ['CANCELLED', `parent task ${slow.id} was cancelled`],
      ['CANCELLED', `parent task ${cancelChild.id} was cancelled`],
    ]);
    // A child added under a parent that already failed fails at once, without a worker.
    const orphan = await add(producer, 'true', { name: 'orphan', parent: failing.id });
    expect(await statusOf(producer, orphan.id)).toMatchObject({ status: 'FAILED', error: `parent task ${failing.id} failed` });
  });

  it('cancels a queued task (it never runs) and a running one (its container is gone within seconds)', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const queued = await add(producer, 'echo ran > ran.txt', { name: 'queued' });
    expect(await producer.cancel(queued.id)).toEqual({ kind: 'cancelled' });
    expect(await statusOf(producer, queued.id)).toMatchObject({ status: 'CANCELLED' });

    const events: WorkerEvent[] = [];
    const running = await add(producer, 'echo started; sleep 120', { name: 'running' });
    await harness.startWorker(ns, { events });
    await until('the container to start', async () => ((await producer.readLog(running.id)).some((e) => e.line === 'started') ? true : undefined));
    expect(harness.containersOf(running.id)).toHaveLength(1);

    expect(await producer.cancel(running.id)).toEqual({ kind: 'stopping' });
    await until('the task to end', async () => ((await statusOf(producer, running.id)).status === 'CANCELLED' ? true : undefined), 15_000);
    await until('the container to go', async () => (harness.containersOf(running.id).length === 0 ? true : undefined), 15_000);
    expect(events.some((event) => event.kind === 'started' && event.task === queued.id)).toBe(false);
    expect(await producer.cancel(running.id)).toEqual({ kind: 'ended', status: 'CANCELLED' });
  });

  it('fails malformed jobs and jobs its policy refuses with a clear reason, and goes on working', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const events: WorkerEvent[] = [];
    const raw = await harness.raw(ns);
    await raw.jobs.add('junk', 'not a task', { jobId: 'Junk_001' });
    // Signed, but malformed: the signature says who made it, not that it is sound.
    const { spec: good } = await harness.task('true', { name: 'good' });
    const malformed = signTask({ ...good, config: { ...good.config, memoryGb: -1 } }, harness.key);
    await producer.add(malformed);
    const { spec: mounting } = await harness.task('cat /host/etc/hostname', { name: 'mounts' });
    await producer.add(signTask({ ...mounting, config: { ...mounting.config, volumes: [{ kind: 'bind', host: '/etc', container: '/host/etc', readonly: true }] } }, harness.key));
    const fine = await add(producer, 'true', { name: 'fine' });

    await harness.startWorker(ns, { events });
    const [bad, refused, ok] = await producer.waitFor([good.id, mounting.id, fine.id], { timeoutMs: 60_000 });
    expect(bad?.status).toBe('FAILED');
    expect(bad?.error).toContain('config.memoryGb must be a number above 0');
    expect(refused?.status).toBe('FAILED');
    expect(refused?.error).toContain('refused by this worker');
    expect(refused?.error).toContain('allow_bind_mounts');
    expect(ok?.status).toBe('COMPLETE');
    const junk = await raw.jobs.getJob('Junk_001');
    expect(junk?.failedReason).toContain('not a tsk task');
    expect(events.filter((event) => event.kind === 'refused')).toHaveLength(3);
  });

  it('stops gracefully: takes no new task, lets a short one finish within the grace period and cancels a long one after it', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const short = await add(producer, 'echo started; sleep 2', { name: 'short' });
    const long = await add(producer, 'echo started; sleep 120', { name: 'long' });
    const later = await add(producer, 'true', { name: 'later' });
    const worker = await harness.startWorker(ns, { concurrency: 2, name: 'stopper' });
    for (const spec of [short, long]) {
      await until(`${spec.name} to start`, async () => ((await producer.readLog(spec.id)).some((e) => e.line === 'started') ? true : undefined));
    }
    await worker.stop({ graceMs: 4000 });
    const [shortView, longView, laterView] = await producer.getMany([short.id, long.id, later.id]);
    expect(shortView?.status).toBe('COMPLETE');
    expect(longView).toMatchObject({ status: 'CANCELLED', error: 'worker stopper stopped' });
    expect(laterView?.status).toBe('QUEUED');
    expect(harness.containersOf(long.id)).toEqual([]);
  });

  it('keeps queued tasks across a Redis restart (append-only file, noeviction)', async () => {
    const ns = harness.namespace();
    let producer = await harness.openQueue(ns);
    const { connection } = await harness.raw(ns);
    expect(await connection.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await connection.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    const specs = [];
    for (let i = 0; i < 3; i++) specs.push(await add(producer, `echo ${i} > kept.txt`, { name: `kept-${i}` }));
    await harness.closeAll();

    await harness.redis.restart();
    producer = await harness.openQueue(ns);
    expect((await producer.list()).map((task) => [task.id, task.status])).toEqual(specs.map((spec) => [spec.id, 'QUEUED']));
    await harness.startWorker(ns, { concurrency: 2 });
    const ended = await producer.waitFor(specs.map((spec) => spec.id), { timeoutMs: 120_000 });
    expect(ended.map((task) => task.status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);
  });

  it('retries a task with the same instructions and settings from the same commit, and deletes tasks', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const original = await add(producer, 'echo again >> tries.txt', { name: 'first' });
    await harness.startWorker(ns);
    await producer.waitFor([original.id]);
    const retried = await producer.retry(original.id, { name: 'second', agent: 'script' }, { key: harness.key, ring: KeyRing.ownerOnly(harness.key) });
    const [done] = await producer.waitFor([retried.id], { timeoutMs: 60_000 });
    expect(done).toMatchObject({ status: 'COMPLETE', name: 'second', branch: `tsk/generic/second/${retried.id}` });
    expect(fileOnBranch(`tsk/generic/second/${retried.id}`, 'tries.txt')).toBe('again\n');
    const retriedSpec = peekJob((await producer.stored(retried.id)).job).spec;
    expect(retriedSpec?.instructions).toBe(original.instructions);
    expect((retriedSpec?.source as { commit?: string } | undefined)?.commit).toBe(original.source.commit);

    await producer.remove(original.id);
    expect(await producer.get(original.id)).toBeUndefined();
    expect(await producer.readLog(original.id)).toEqual([]);
    expect((await producer.list()).map((task) => task.id)).toEqual([retried.id]);
  });
});
