import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskResult, TaskSpec } from '../model/index.js';
import type { TaskQueue, TaskView } from '../queue/index.js';
import { QueueHarness } from '../test-utils/queue-harness.js';
import { QueueKeys } from '../test-utils/queue-internals.js';
import { MAX_RATE_LIMIT_DELAYS } from './rate-limit.js';
import type { TaskExecutor } from './task-processor.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * Rate limits (a result with `retryAt`: DELAYED, back in the queue, run again from the snapshot) and
 * `start_interval`, on a real Redis, real BullMQ and the real worker; tasks that run do so in real
 * sandboxes (script agent). What the agent's API says about its limit reaches the worker as the runner's
 * `retryAt`: here a wrapper around the real runner answers a task's first run(s) with it, as the runner
 * does when the agent's API answered 429.
 */

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

/** The real runner, except that a task's first `limitedRuns` runs hit the agent's rate limit (it resets in `resetMs`). */
class RateLimitedRunner implements TaskExecutor {
  /** Every run asked of it, in order (task ids). */
  readonly runs: string[] = [];
  /** When each run began (ms). */
  readonly runStarts: number[] = [];
  /** The `retryAt` of each rate-limited run. */
  readonly retryAts: string[] = [];

  constructor(
    private readonly inner: TaskExecutor,
    private readonly limitedRuns: number,
    private readonly resetMs: number,
  ) {}

  async run(spec: TaskSpec, options: Parameters<TaskExecutor['run']>[1]): Promise<TaskResult> {
    this.runs.push(spec.id);
    this.runStarts.push(Date.now());
    if (this.runs.filter((id) => id === spec.id).length > this.limitedRuns) return this.inner.run(spec, options);
    const startedAt = new Date().toISOString();
    options.log.write('agent', 'API Error: 429 rate_limit_error');
    const retryAt = new Date(Date.now() + this.resetMs).toISOString();
    this.retryAts.push(retryAt);
    return {
      id: spec.id,
      status: 'FAILED',
      branch: undefined,
      commit: undefined,
      baseCommit: spec.source.commit,
      error: 'Agent exited with code 1',
      summary: undefined,
      retryAt,
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  }
}

async function add(queue: TaskQueue, prompt: string, options: { name?: string; parent?: string } = {}): Promise<TaskSpec> {
  const task = await harness.task(prompt, options);
  await queue.add(task);
  return task.spec;
}

async function viewOf(queue: TaskQueue, id: string): Promise<TaskView> {
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
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const statusIs = (queue: TaskQueue, id: string, status: string) => async () => {
  const view = await viewOf(queue, id);
  return view.status === status ? view : undefined;
};

function branchTip(branch: string): string {
  return execFileSync('git', ['rev-parse', '--verify', `refs/heads/${branch}`], { cwd: harness.repo, encoding: 'utf8' }).trim();
}

describe('rate limits and start_interval (real Redis, real worker)', () => {
  it('puts a rate-limited task back in the queue DELAYED until its reset, then runs it again on the same worker to COMPLETE without using an attempt', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const { jobs } = await harness.raw(ns);
    const events: WorkerEvent[] = [];
    const runner = new RateLimitedRunner(harness.runner('limited'), 1, 2500);
    const spec = await add(producer, 'echo done > limited.txt', { name: 'limited' });
    await harness.startWorker(ns, { name: 'limited', executor: runner, events });

    const delayed = await until('the task to be DELAYED', statusIs(producer, spec.id, 'DELAYED'));
    const delayedEvent = events.find((event) => event.kind === 'delayed');
    expect(delayedEvent).toMatchObject({ kind: 'delayed', task: spec.id, delays: 1 });
    const retryAt = Date.parse(runner.retryAts[0] ?? '');
    expect(delayed.delayedUntil).toBe(runner.retryAts[0]);
    expect(delayedEvent?.kind === 'delayed' && delayedEvent.until).toBe(runner.retryAts[0]);
    expect(Date.parse(delayed.delayedUntil ?? '') - Date.now()).toBeGreaterThan(1000);
    expect(delayed).toMatchObject({ worker: undefined, branch: undefined, error: undefined, delays: 1 });
    // BullMQ holds the job in its delayed set, its one attempt unused.
    expect(await jobs.getJobState(spec.id)).toBe('delayed');
    expect((await jobs.getJob(spec.id))?.attemptsMade).toBe(0);
    expect((await producer.readLog(spec.id)).map((entry) => entry.line)).toContain(`rate limited: back in the queue until ${delayed.delayedUntil ?? ''}`);
    // Not ended: nothing cleans it, and nothing waits on it as if it had.
    expect((await producer.endedTasks()).map((task) => task.id)).not.toContain(spec.id);
    expect(await producer.waitFor([spec.id], { timeoutMs: 300 })).toMatchObject([{ status: 'DELAYED' }]);

    const [done] = await producer.waitFor([spec.id], { timeoutMs: 60_000 });
    expect(done).toMatchObject({ status: 'COMPLETE', worker: 'limited', error: undefined, branch: spec.branch, delayedUntil: undefined, delays: 1 });
    // It ran again only after its reset time, from its snapshot, and made its branch.
    expect(runner.runs).toEqual([spec.id, spec.id]);
    expect(runner.runStarts[1]).toBeGreaterThanOrEqual(retryAt - 5);
    expect(execFileSync('git', ['show', `${spec.branch}:limited.txt`], { cwd: harness.repo, encoding: 'utf8' })).toBe('done\n');
    const job = await jobs.getJob(spec.id);
    expect(await jobs.getJobState(spec.id)).toBe('completed');
    expect(job?.attemptsMade).toBe(1);
    expect(events.filter((event) => event.kind === 'finished')).toEqual([expect.objectContaining({ task: spec.id, status: 'COMPLETE' })]);
  });

  it('never runs a COMPLETE task twice when Redis is rewritten to say it was DELAYED and its job is queued again', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const { jobs, connection } = await harness.raw(ns);
    const keys = new QueueKeys(ns);
    const runner = new RateLimitedRunner(harness.runner('victim'), 1, 1000);
    const delayedOnce = await add(producer, 'echo one > one.txt', { name: 'delayed-once' });
    const plain = await add(producer, 'echo two > two.txt', { name: 'plain' });
    // `plain` runs at once on its first run: only the first task added is rate limited.
    let plainRuns = 0;
    const plainRunner: TaskExecutor = {
      run: (spec, options) => {
        if (spec.id !== plain.id) return runner.run(spec, options);
        plainRuns += 1;
        return harness.runner('victim').run(spec, options);
      },
    };
    await harness.startWorker(ns, { name: 'victim', executor: plainRunner, concurrency: 2 });
    const ended = await producer.waitFor([delayedOnce.id, plain.id], { timeoutMs: 90_000 });
    expect(ended.map((task) => task.status)).toEqual(['COMPLETE', 'COMPLETE']);
    expect([runner.runs.length, plainRuns]).toEqual([2, 1]);
    const tips = [branchTip(delayedOnce.branch), branchTip(plain.branch)];

    // The attacker: each record says DELAYED again (its time past, its count reset), and its signed job is
    // put back on the queue.
    for (const spec of [delayedOnce, plain]) {
      const job = await jobs.getJob(spec.id);
      const data: unknown = job?.data;
      await job?.remove();
      await connection.hset(keys.task(spec.id), 'status', 'DELAYED', 'delayedUntil', new Date().toISOString(), 'delays', '0');
      await jobs.add(spec.type, data, { jobId: spec.id });
    }
    const replayed = await until('both replays to be refused', async () => {
      const views = await producer.getMany([delayedOnce.id, plain.id]);
      return views.every((view) => view.status === 'FAILED') ? views : undefined;
    });
    for (const view of replayed) expect(view.error).toBe(`task ${view.id} already ran on this machine: a job queued again is refused`);
    expect([runner.runs.length, plainRuns]).toEqual([2, 1]);
    expect([branchTip(delayedOnce.branch), branchTip(plain.branch)]).toEqual(tips);
  });

  it('cancels a DELAYED task (its delayed job removed, its child cancelled with it); it has no worker to lose', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const { jobs } = await harness.raw(ns);
    // Never past its rate limit: the real runner is not reached.
    const runner = new RateLimitedRunner(harness.runner('canceller'), Infinity, 60_000);
    const parent = await add(producer, 'true', { name: 'parent' });
    const child = await add(producer, 'true', { name: 'child', parent: parent.id });
    const worker = await harness.startWorker(ns, { name: 'canceller', executor: runner });
    await until('the parent to be DELAYED', statusIs(producer, parent.id, 'DELAYED'));
    expect((await viewOf(producer, child.id)).status).toBe('WAITING');

    // Its worker stops and its heartbeat goes: a DELAYED task has no worker, so it is not lost.
    await worker.stop({ graceMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const watcher = await harness.startWorker(ns, { name: 'watcher', executor: runner });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await viewOf(producer, parent.id)).toMatchObject({ status: 'DELAYED', worker: undefined });
    expect(await jobs.getJobState(parent.id)).toBe('delayed');

    expect(await producer.cancel(parent.id)).toEqual({ kind: 'cancelled' });
    expect(await viewOf(producer, parent.id)).toMatchObject({ status: 'CANCELLED', error: 'Cancelled' });
    expect(await viewOf(producer, child.id)).toMatchObject({ status: 'CANCELLED', error: `parent task ${parent.id} was cancelled` });
    expect(await jobs.getJob(parent.id)).toBeUndefined();
    expect(runner.runs).toEqual([parent.id]);
    await watcher.stop({ graceMs: 0 });
  });

  it(`fails a task rate limited more than ${MAX_RATE_LIMIT_DELAYS} times, even when Redis says it never was`, async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const { connection } = await harness.raw(ns);
    const keys = new QueueKeys(ns);
    const events: WorkerEvent[] = [];
    const runner = new RateLimitedRunner(harness.runner('capped'), Infinity, 200);
    const spec = await add(producer, 'true', { name: 'capped' });
    await harness.startWorker(ns, { name: 'capped', executor: runner, events });
    // The record's count is data: reset it after the second delay, and the worker's own ledger still counts.
    await until('two delays', async () => (events.filter((event) => event.kind === 'delayed').length >= 2 ? true : undefined));
    await connection.hset(keys.task(spec.id), 'delays', '0');
    const [ended] = await producer.waitFor([spec.id], { timeoutMs: 60_000 });
    expect(ended).toMatchObject({ status: 'FAILED', error: `rate limited ${MAX_RATE_LIMIT_DELAYS} times: giving up` });
    expect(runner.runs).toHaveLength(MAX_RATE_LIMIT_DELAYS + 1);
    expect(events.filter((event) => event.kind === 'delayed')).toHaveLength(MAX_RATE_LIMIT_DELAYS);
  });

  it('starts the tasks of a 2-slot worker start_interval apart, says so in the log of the one that waits, and cancels it while it waits', async () => {
    const ns = harness.namespace();
    const producer = await harness.openQueue(ns);
    const first = await add(producer, 'echo a > a.txt', { name: 'first' });
    const second = await add(producer, 'echo b > b.txt', { name: 'second' });
    await harness.startWorker(ns, { name: 'stagger', concurrency: 2, startIntervalMs: 3000 });
    const ended = await producer.waitFor([first.id, second.id], { timeoutMs: 90_000 });
    expect(ended.map((task) => task.status)).toEqual(['COMPLETE', 'COMPLETE']);
    const starts = ended.map((task) => Date.parse(task.startedAt ?? '')).sort((a, b) => a - b);
    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(2900);
    const waited = ended.find((task) => Date.parse(task.startedAt ?? '') === starts[1]);
    const lines = (await producer.readLog(waited?.id ?? '')).map((entry) => entry.line);
    expect(lines.some((line) => /^waiting [0-9.]+s \(start_interval\) before starting$/.test(line))).toBe(true);

    // A cancel while a task waits its turn: it ends CANCELLED at once, never run.
    const ns2 = harness.namespace();
    const queue = await harness.openQueue(ns2);
    const runner = new RateLimitedRunner(harness.runner('stagger-2'), 0, 0);
    const both = [await add(queue, 'sleep 30', { name: 'one' }), await add(queue, 'sleep 30', { name: 'two' })];
    await harness.startWorker(ns2, { name: 'stagger-2', concurrency: 2, startIntervalMs: 20_000, executor: runner });
    const waiting = await until('one task to wait its turn', async () => {
      for (const spec of both) if ((await queue.readLog(spec.id)).some((entry) => entry.line.includes('(start_interval)'))) return spec;
      return undefined;
    });
    const running = both.find((spec) => spec !== waiting) ?? waiting;
    expect(['cancelled', 'stopping']).toContain((await queue.cancel(waiting.id)).kind);
    await until('the waiting task to be CANCELLED', statusIs(queue, waiting.id, 'CANCELLED'), 10_000);
    expect(runner.runs).toEqual([running.id]);
    await queue.cancel(running.id);
    await until('the running task to be CANCELLED', statusIs(queue, running.id, 'CANCELLED'), 20_000);
  });
});
