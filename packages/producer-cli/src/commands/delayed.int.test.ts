import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectRedis,
  DirectNetworkProvider,
  dockerServices,
  formatWorkerEvent,
  loadLocalTrust,
  openConfiguredQueue,
  RunLedger,
  silentSink,
  TaskRunner,
  TaskWorker,
  type TaskExecutor,
  type TaskResult,
} from '@tsk/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { makeTskHome, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';

/**
 * What `tsk list`, `wait` and `cancel` make of a DELAYED task (its agent was rate limited), with the built
 * CLI against a real worker on real Redis. The worker is the engine's, built as `tsk server start` builds
 * it from the same tsk home, except that its runner (the real one) is wrapped: a task's first run answers
 * as the runner does when the agent's API said 429 (`retryAt`), and only tasks named `limited-*` are.
 */

let redis: TestRedis;
let home: TskHome;
let root: string;
let repo: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
  root = mkdtempSync(join(tmpdir(), 'tsk-delayed-cli-'));
  repo = makeSimpleRepo(join(root, 'repo'));
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

afterAll(async () => {
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const { tsk, tskJson } = tskCli(() => ({ env: home.env, cwd: repo }));

async function add(name: string, prompt: string): Promise<TaskJson> {
  const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', name, '-p', prompt]);
  if (!task) throw new Error('tsk add printed no task');
  return task;
}

async function taskOf(id: string): Promise<TaskJson | undefined> {
  return (await tskJson<TaskJson[]>(['list'])).find((task) => task.id === id);
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

/** A worker of this tsk home (its config, key, data dir and Redis) whose real runner is rate limited as said above. */
async function startWorker(resetMs: (name: string) => number | undefined): Promise<{ runs: string[]; events: string[] }> {
  const opened = await openConfiguredQueue({ purpose: 'worker', log: silentSink, env: home.env });
  closers.push(() => opened.close());
  const { config } = opened;
  const { key, ring } = await loadLocalTrust(config.machine);
  const services = await dockerServices(home.env);
  const runner = new TaskRunner({ docker: services.docker, images: services.images, network: new DirectNetworkProvider(), dataDir: config.machine.dataDir, workerName: 'cli-delays' });
  const runs: string[] = [];
  const events: string[] = [];
  const executor: TaskExecutor = {
    async run(spec, options): Promise<TaskResult> {
      const first = !runs.includes(spec.id);
      runs.push(spec.id);
      const reset = first ? resetMs(spec.name) : undefined;
      if (reset === undefined) return runner.run(spec, options);
      const now = new Date().toISOString();
      const base = { id: spec.id, branch: undefined, commit: undefined, baseCommit: spec.source.commit, summary: undefined, startedAt: now, finishedAt: now };
      return { ...base, status: 'FAILED', error: 'Agent exited with code 1', retryAt: new Date(Date.now() + reset).toISOString() };
    },
  };
  const worker = new TaskWorker({
    queue: opened.queue.forWorker(),
    docker: services.docker,
    executor,
    name: 'cli-delays',
    concurrency: 2,
    trust: {
      key,
      ring,
      policy: config.machine.worker,
      baseImage: config.machine.baseImage,
      remote: config.remote,
      environment: home.env,
      ownerHome: home.dir,
      ledger: new RunLedger(join(config.machine.dataDir, 'ledger')),
    },
    dataDir: config.machine.dataDir,
    onEvent: (event) => events.push(formatWorkerEvent(event)),
  });
  await worker.start();
  closers.push(() => worker.stop({ graceMs: 0 }));
  return { runs, events };
}

describe('DELAYED tasks in the CLI (built CLI, real Redis, real worker)', () => {
  it('list shows DELAYED until its time (--json: delayedUntil), wait keeps waiting until it is COMPLETE, cancel ends one', async () => {
    const soon = await add('limited-soon', 'echo soon > soon.txt');
    const later = await add('limited-later', 'echo later > later.txt');
    const { runs, events } = await startWorker((name) => (name === 'limited-soon' ? 15_000 : name === 'limited-later' ? 3600_000 : undefined));

    const [soonDelayed, laterDelayed] = await until('both tasks to be DELAYED', async () => {
      const tasks = await Promise.all([taskOf(soon.id), taskOf(later.id)]);
      return tasks.every((task) => task?.status === 'DELAYED') ? tasks : undefined;
    }).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; worker: ${events.join(' | ')}; tasks: ${JSON.stringify([await taskOf(soon.id), await taskOf(later.id)])}`);
    });
    expect(soonDelayed).toMatchObject({ status: 'DELAYED', worker: null, branch: null, delays: 1 });
    const soonUntil = Date.parse(soonDelayed?.delayedUntil ?? '');
    expect(soonUntil - Date.now()).toBeGreaterThan(8000);
    expect(Date.parse(laterDelayed?.delayedUntil ?? '') - Date.now()).toBeGreaterThan(3500_000);
    const listed = await tsk(['list']);
    const time = (at: number) => `${String(new Date(at).getHours()).padStart(2, '0')}:${String(new Date(at).getMinutes()).padStart(2, '0')}`;
    expect(listed.stdout).toContain(`DELAYED until ${time(soonUntil)}`);
    expect(listed.stdout).toContain('2 tasks: 2 delayed');

    // wait: DELAYED is not an end; it says why it waits, and returns once the task ran again.
    const waited = await tsk(['wait', soon.id, '--json']);
    expect(waited.exitCode, waited.stderr).toBe(0);
    expect(waited.stderr).toContain(`${soon.id} DELAYED: rate limited, back in the queue until ${time(soonUntil)}`);
    const [done] = JSON.parse(waited.stdout) as TaskJson[];
    expect(done).toMatchObject({ status: 'COMPLETE', delayedUntil: null, delays: 1, branch: expect.stringContaining(soon.id) });
    expect(Date.parse(done?.startedAt ?? '')).toBeGreaterThanOrEqual(soonUntil);

    const [cancelled] = await tskJson<TaskJson[]>(['cancel', later.id]);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', error: 'Cancelled', delayedUntil: null });
    expect(runs.filter((id) => id === later.id)).toHaveLength(1);
    // Its delayed job is gone: nothing brings it back.
    const connection = await connectRedis({ url: redis.url(), purpose: 'cli' });
    try {
      expect(await connection.exists(`tsk:queue:${later.id}`)).toBe(0);
      expect(await connection.zscore('tsk:queue:delayed', later.id)).toBeNull();
    } finally {
      connection.disconnect();
    }
  });
});
