import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's tests: a real redis-server process on loopback, stopped by its pid.
import { startLocalRedis, type LocalRedis } from '../../../engine/src/test-utils/local-redis.js';
import { startWorkerBin, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { makeTskHome, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';

/**
 * A `tsk-worker` whose Redis has gone away still stops on SIGTERM (what `tsk server stop` sends) within its
 * grace period: it cancels its tasks and removes their sandboxes, and leaves what it could not write to
 * the "worker lost" rule. Real binaries, a real redis-server killed by its pid, real Docker.
 */

let home: TskHome;
let root: string;
let repo: string;
const redises: LocalRedis[] = [];
const workers: WatchedProcess[] = [];

beforeAll(async () => {
  home = await makeTskHome();
  root = mkdtempSync(join(tmpdir(), 'tsk-worker-redis-gone-'));
  repo = makeSimpleRepo(join(root, 'repo'));
});

afterEach(async () => {
  for (const worker of workers.splice(0)) await stopProcess(worker, 'SIGKILL');
  for (const redis of redises.splice(0)) await redis.stop();
});

afterAll(async () => {
  if (home) await tskCli(() => ({ env: home.env, cwd: repo })).tsk(['proxy', 'stop']);
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A Redis of its own for one test, and the environment that points tsk at it. */
async function redisFor(): Promise<{ redis: LocalRedis; env: NodeJS.ProcessEnv }> {
  const redis = await startLocalRedis();
  redises.push(redis);
  return { redis, env: { ...home.env, TSK_REDIS_URL: redis.url } };
}

function startWorker(name: string, graceSeconds: number, env: NodeJS.ProcessEnv): WatchedProcess {
  const worker = startWorkerBin(['--name', name, '--no-health', '--grace', String(graceSeconds)], env);
  workers.push(worker);
  return worker;
}

/** The process's exit code, or 'still running' once `ms` have passed. */
async function exitWithin(process_: WatchedProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([process_.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function containersOf(taskId: string, status?: string): string[] {
  const filters = ['--filter', `label=tsk.task=${taskId}`, ...(status ? ['--filter', `status=${status}`] : [])];
  return execFileSync('docker', ['ps', '-aq', ...filters], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

async function until(check: () => boolean, what: string, worker: WatchedProcess, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not seen after ${timeoutMs}ms:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a worker whose Redis has gone away stops on SIGTERM (real tsk-worker, real redis-server, real Docker)', () => {
  it('an idle worker exits within its grace period', async () => {
    const { redis, env } = await redisFor();
    const worker = startWorker('idle-1', 10, env);
    await worker.waitFor('worker idle-1 ready');
    await redis.stop();
    worker.child.kill('SIGTERM');
    expect(await exitWithin(worker, 10_000), worker.output()).toBe(0);
    expect(worker.output()).toContain('worker idle-1 stopped');
  });

  it('a worker running a task exits within its grace period (plus the sandbox’s removal), the sandbox gone', async () => {
    const { redis, env } = await redisFor();
    const { tskJson } = tskCli(() => ({ env, cwd: repo }));
    const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', 'sleeper', '-p', 'echo started; sleep 600']);
    const id = task?.id ?? '';
    const worker = startWorker('busy-1', 5, env);
    await worker.waitFor(`${id} started`);
    // The first task builds the sandbox image: wait for the agent's container itself.
    await until(() => containersOf(id, 'running').length > 0, `a running sandbox of ${id}`, worker);

    await redis.stop();
    worker.child.kill('SIGTERM');
    // 5 s of grace, then the cancel: the sandbox is killed and removed (Docker answers; Redis does not).
    expect(await exitWithin(worker, 5_000 + 25_000), worker.output()).toBe(0);
    expect(worker.output()).toContain(`${id} cancelling (worker stopping)`);
    expect(worker.output()).toContain('worker busy-1 stopped');
    expect(containersOf(id)).toEqual([]);
  });
});
