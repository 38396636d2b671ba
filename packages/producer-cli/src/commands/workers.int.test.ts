import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's tests: a real redis-server on loopback, no Docker.
import { startLocalRedis, type LocalRedis } from '../../../engine/src/test-utils/local-redis.js';
import { startWorkerBin, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { makeTskHome, type TskHome } from '../test-utils/run-tsk.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';
import type { WorkerJson } from '../queue/worker-table.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';

/**
 * `tsk workers` and `--requires` through the real binaries: a `tsk-worker` with `[worker] labels`, the CLI
 * on the same Redis. No task here reaches a sandbox: the one queued requires a label no worker has.
 */



let redis: LocalRedis;
let connection: Awaited<ReturnType<typeof connectRedis>>;
let home: TskHome;
let root: string;
let repo: string;
let worker: WatchedProcess | undefined;

beforeAll(async () => {
  redis = await startLocalRedis();
  connection = await connectRedis({ url: redis.url, purpose: 'cli' });
  home = await makeTskHome({ TSK_REDIS_URL: redis.url });
  mkdirSync(join(home.dir, 'config', 'tsk'), { recursive: true });
  writeFileSync(join(home.dir, 'config', 'tsk', 'tsk.toml'), '[worker]\nlabels = ["arm64", "big-mem"]\n');
  root = mkdtempSync(join(tmpdir(), 'tsk-workers-cli-'));
  repo = makeSimpleRepo(join(root, 'repo'));
});

afterAll(async () => {
  if (worker) await stopProcess(worker, 'SIGKILL');
  connection?.disconnect();
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const { tsk, tskJson } = tskCli(() => ({ env: home.env, cwd: repo }));

describe('tsk workers and --requires (real binaries, real Redis)', () => {
  it('lists a live worker with its host, capacity, labels and heartbeat', async () => {
    expect(await tskJson<WorkerJson[]>(['workers'])).toEqual([]);
    worker = startWorkerBin(['--name', 'arm-1', '-w', '2', '--no-health', '--grace', '5'], home.env);
    await worker.waitFor('worker arm-1 ready');

    const [listed, ...others] = await tskJson<WorkerJson[]>(['workers']);
    expect(others).toEqual([]);
    expect(listed).toMatchObject({
      name: 'arm-1',
      host: hostname(),
      pid: worker.pid,
      state: 'running',
      capacity: 2,
      runningCount: 0,
      running: [],
      labels: ['arm64', 'big-mem'],
      version: '0.1.0',
    });
    expect(listed?.lastHeartbeatAgoMs).toBeLessThan(10_000);
    const table = await tsk(['workers']);
    expect(table.stdout).toMatch(/^Name\s+Host\s+State\s+Tasks\s+Running\s+Labels\s+Version\s+Last beat$/m);
    expect(table.stdout).toMatch(/^arm-1\s+\S+\s+running\s+0\/2\s+-\s+arm64,big-mem\s+0\.1\.0\s+\d+s ago$/m);
    expect(table.stdout).toContain('1 worker: 0 of 2 task slots busy');
  });

  it('prints nothing a hostile registry entry carries but checked, plain values', async () => {
    await connection.zadd('tsk:workers', Date.now(), 'evil-1');
    const hostile = { host: 'h\x1b]0;pwned\x07\x1b[2J\u202eost', labels: ['gpu\x1b[31m', 'ok'], version: '\x9b31m9', running: ['../../x'], concurrency: -4 };
    await connection.set('tsk:worker:evil-1', JSON.stringify(hostile), 'PX', 60_000);
    const table = await tsk(['workers']);
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^evil-1\s+host\s+running\s+0\/\?\s+-\s+ok\s+9\s+\d+s ago$/m);
    expect(table.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    const evil = (await tskJson<WorkerJson[]>(['workers'])).find((entry) => entry.name === 'evil-1');
    expect(evil).toMatchObject({ host: 'host', labels: ['ok'], running: [], capacity: null, version: '9' });
    await connection.del('tsk:worker:evil-1');
  });

  it('queues a --requires task that waits, visibly, while no worker has the label; tsk run refuses it on a machine without the label', async () => {
    const bad = await tsk(['add', '--agent', 'script', '-p', 'true', '--requires', 'GPU']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('Error: --requires: "GPU" is not a label');

    const [queued] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-p', 'nvidia-smi', '--requires', 'gpu', '--requires', 'cuda12,gpu']);
    expect(queued).toMatchObject({ status: 'QUEUED', requires: ['gpu', 'cuda12'] });
    const id = queued?.id ?? '';
    // The worker here (arm64, big-mem) takes the job, hands it back and leaves a note; the list says why it waits.
    await worker?.waitFor(`${id} left to another worker (waiting for a worker with labels gpu, cuda12)`, 30_000);
    const [listed] = await tskJson<TaskJson[]>(['list']);
    expect(listed).toMatchObject({ id, status: 'QUEUED', note: 'no worker with labels gpu, cuda12 seen in the last 10 min' });
    const table = await tsk(['list']);
    expect(table.stdout).toMatch(/\s+Note$/m);
    expect(table.stdout).toContain('no worker with labels gpu, cuda12 seen in the last 10 min');

    const cancelled = await tsk(['cancel', id]);
    expect(cancelled.exitCode, cancelled.stderr).toBe(0);
    expect((await tskJson<TaskJson[]>(['list']))[0]).toMatchObject({ id, status: 'CANCELLED', note: null });

    const run = await tsk(['run', '--agent', 'script', '-p', 'true', '--requires', 'gpu']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('Error: This machine does not have label gpu ([worker] labels in');
  });

  it('drops a worker once it has stopped', async () => {
    if (!worker) throw new Error('no worker');
    await stopProcess(worker, 'SIGTERM');
    expect(worker.output()).toContain('worker arm-1 stopped');
    expect(await tskJson<WorkerJson[]>(['workers'])).toEqual([]);
    expect((await tsk(['workers'])).stdout).toContain('No workers');
  });
});
