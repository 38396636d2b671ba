import type { TaskViewJson } from '@tsk/engine/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, sumBy, type ParsedFamily } from '../../engine/src/test-utils/prometheus-parser.js';
import { runTsk } from '../../producer-cli/src/test-utils/run-tsk.js';
import { makeDashboardWorld, rawRequest, type DashboardWorld } from './test-utils/dashboard-fixture.js';

/*
 * `/metrics` on a real Redis with tasks in every state a queue shows without a worker's sandbox (queued,
 * waiting, running on a live worker, complete with cost, failed, cancelled), read as strict Prometheus text
 * and compared with what the built `tsk list --json` and `tsk workers --json` say.
 */

let world: DashboardWorld;
let url: string;
const WORKER = 'metrics-w1';

beforeAll(async () => {
  world = await makeDashboardWorld();
  const worker = world.queue.forWorker();
  const queued = await Promise.all([world.add({ project: 'alpha' }), world.add({ project: 'alpha' }), world.add({ project: 'beta', agent: 'claude' })]);
  await world.add({ parentTaskId: queued[0]!.id, project: 'alpha' }); // WAITING
  const [running, complete, failed, cancelled] = await Promise.all([world.add(), world.add(), world.add(), world.add()]);
  await worker.beat({ name: WORKER, host: 'test-host', pid: process.pid, concurrency: 3, running: [running!.id], labels: [], version: '0.1.0', startedAt: new Date().toISOString(), stopping: false }, 60_000);
  for (const task of [running!, complete!, failed!]) expect((await worker.claim(task.id, WORKER, { resumeLost: false })).kind).toBe('run');
  await worker.end(complete!.id, { status: 'COMPLETE', usage: { costUsd: 0.42, inputTokens: 1000, outputTokens: 200 } });
  await worker.end(failed!.id, { status: 'FAILED', error: 'boom', usage: { costUsd: 0.08 } });
  expect((await world.queue.cancel(cancelled!.id)).kind).toBe('cancelled');
  url = (await world.start()).url;
});

afterAll(async () => {
  await world?.cleanup();
});

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const response = await rawRequest(`${url}metrics`, { headers: { Host: new URL(url).host } });
  expect(response.status).toBe(200);
  expect(String(response.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(response.text);
}

function cli(args: string[]) {
  return runTsk([...args, '--json'], { env: { ...world.env, TSK_REDIS_URL: world.redis.url }, cwd: world.home });
}

describe('/metrics (real Redis, the built tsk to compare)', () => {
  it('counts tasks per state exactly as `tsk list --json` does', async () => {
    const families = await scrape();
    const listed = await cli(['list']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const tasks = JSON.parse(listed.stdout) as TaskViewJson[];
    const expected = new Map<string, number>();
    for (const task of tasks) expected.set(task.status, (expected.get(task.status) ?? 0) + 1);
    // The scenario reached the states it meant to (else the comparison would prove little).
    expect(Object.fromEntries(expected)).toEqual({ QUEUED: 3, WAITING: 1, RUNNING: 1, COMPLETE: 1, FAILED: 1, CANCELLED: 1 });
    const byState = sumBy(families, 'tsk_tasks', 'state');
    for (const [state, count] of byState) expect(count, state).toBe(expected.get(state) ?? 0);
    for (const [state, count] of expected) expect(byState.get(state), state).toBe(count);
    // Every state has its series, zero when empty.
    expect(byState.get('DELAYED')).toBe(0);
    expect(families.get('tsk_tasks')?.type).toBe('gauge');
  });

  it('splits by project and agent, and sums cost and tokens', async () => {
    const families = await scrape();
    const queued = families.get('tsk_tasks')!.samples.filter((sample) => sample.labels.state === 'QUEUED');
    expect(queued.map((sample) => [sample.labels.project, sample.labels.agent, sample.value]).sort()).toEqual([
      ['alpha', 'script', 2],
      ['beta', 'claude', 1],
    ]);
    expect([...sumBy(families, 'tsk_tasks_cost_usd', 'state').entries()].filter(([, cost]) => cost > 0).sort()).toEqual([
      ['COMPLETE', 0.42],
      ['FAILED', 0.08],
    ]);
    expect(sumBy(families, 'tsk_tasks_tokens', 'direction')).toEqual(new Map([['input', 1000], ['output', 200]]));
  });

  it('times ended tasks and queue waits as histograms', async () => {
    const families = await scrape();
    expect(families.get('tsk_task_duration_seconds')?.type).toBe('histogram');
    // The two that ran and ended; the cancelled one never started.
    expect(sumBy(families, 'tsk_task_duration_seconds', 'state', 'tsk_task_duration_seconds_count')).toEqual(new Map([['COMPLETE', 1], ['FAILED', 1]]));
    // Three started (running, complete, failed).
    expect(families.get('tsk_task_queue_wait_seconds')?.samples.find((sample) => sample.name === 'tsk_task_queue_wait_seconds_count')?.value).toBe(3);
  });

  it('reports worker capacity and running tasks as `tsk workers --json` does', async () => {
    const families = await scrape();
    const listed = await cli(['workers']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const workers = JSON.parse(listed.stdout) as { name: string; state: string; capacity: number | null; runningCount: number }[];
    expect(workers.map((worker) => worker.name)).toEqual([WORKER]);
    expect(families.get('tsk_workers_capacity')?.samples[0]?.value).toBe(workers[0]?.capacity);
    expect(families.get('tsk_workers_running')?.samples[0]?.value).toBe(workers[0]?.runningCount);
    expect(families.get('tsk_worker_capacity')?.samples).toEqual([{ name: 'tsk_worker_capacity', labels: { worker: WORKER }, value: 3 }]);
    expect(families.get('tsk_worker_running')?.samples).toEqual([{ name: 'tsk_worker_running', labels: { worker: WORKER }, value: 1 }]);
    expect(sumBy(families, 'tsk_workers', 'state')).toEqual(new Map([['running', 1], ['stopping', 0]]));
  });

  it('follows the queue: a task cancelled between scrapes moves state', async () => {
    const before = sumBy(await scrape(), 'tsk_tasks', 'state');
    const [task] = (await world.queue.list()).filter((view) => view.status === 'QUEUED' && view.project === 'beta');
    expect((await world.queue.cancel(task!.id)).kind).toBe('cancelled');
    const after = sumBy(await scrape(), 'tsk_tasks', 'state');
    expect(after.get('QUEUED')).toBe((before.get('QUEUED') ?? 0) - 1);
    expect(after.get('CANCELLED')).toBe((before.get('CANCELLED') ?? 0) + 1);
  });
});
