import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis } from '@tsk/engine';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { startServer, startWorkerBin, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { makeTskHome, startTsk, type TskHome } from '../test-utils/run-tsk.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';
import { containersOf, makeSimpleRepo } from '../test-utils/simple-repo.js';


let redis: TestRedis;
let home: TskHome;
let root: string;
let repo: string;
const processes: WatchedProcess[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
  root = mkdtempSync(join(tmpdir(), 'tsk-queue-cli-'));
  repo = makeSimpleRepo(join(root, 'repo'));
});

beforeEach(async () => {
  const connection = await connectRedis({ url: redis.url(), purpose: 'cli' });
  await connection.flushall();
  connection.disconnect();
});

afterEach(async () => {
  for (const process_ of processes.splice(0)) await stopProcess(process_, 'SIGKILL');
});

afterAll(async () => {
  // A killed worker's task network (and its proxy) is freed by the next worker's sweep; none runs after
  // the last test, so free them here as a user would.
  if (home) await tsk(['proxy', 'stop']);
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const { tsk, tskJson } = tskCli(() => ({ env: home.env, cwd: repo }));

async function add(prompt: string, extra: string[] = []): Promise<TaskJson> {
  const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-p', prompt, ...extra]);
  if (!task) throw new Error('tsk add printed no task');
  return task;
}

function track(process_: WatchedProcess): WatchedProcess {
  processes.push(process_);
  return process_;
}

async function taskOf(id: string): Promise<TaskJson> {
  const tasks = await tskJson<TaskJson[]>(['list']);
  const task = tasks.find((t) => t.id === id);
  if (!task) throw new Error(`no task ${id} in tsk list`);
  return task;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

describe('tsk queue commands (built CLI, real Redis, real Docker)', () => {
  it('add prints the queued task; list shows it; logs -f shows lines while it runs; wait reports it', async () => {
    const added = await tsk(['add', '--agent', 'script', '-n', 'ticks', '-p', 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done']);
    expect(added.exitCode, added.stderr).toBe(0);
    const id = /^Queued ([A-Za-z0-9_]{8}) \(generic, default, script\)$/m.exec(added.stdout)?.[1];
    expect(id, added.stdout).toBeDefined();

    const listed = await tsk(['list']);
    expect(listed.stdout.split('\n')[0]?.split(/\s{2,}/)).toEqual(['ID', 'Name', 'Type', 'Status', 'Duration', 'Cost', 'Parent', 'Agent', 'By', 'Branch', 'Worker', 'Created']);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+ticks\\s+generic\\s+QUEUED\\s`, 'm'));
    expect(listed.stdout).toContain('1 task: 1 queued');
    expect(listed.stdout).not.toContain('\x1b[');

    const server = track(startServer(['-w', '1'], home.env));
    const health = String((await server.waitFor(/health (http:\/\/127\.0\.0\.1:\d+\/healthz)/))[1]);
    const response = await fetch(health);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', concurrency: 1, redis: 'ready', stopping: false });
    const followed = startTsk(['logs', '-f', id ?? ''], { env: home.env, cwd: repo });
    await followed.waitFor('tick 2', 60_000);
    // The line came while the task was still running.
    expect((await taskOf(id ?? '')).status).toBe('RUNNING');
    const followResult = await followed.done;
    expect(followResult.exitCode).toBe(0);
    expect(followResult.stdout).toContain('tick 6');
    expect(followResult.stdout).toContain('[tsk] Starting script agent');

    const waited = await tsk(['wait', id ?? '']);
    expect(waited.exitCode, waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(new RegExp(`^${id} COMPLETE in \\d+s: No changes$`, 'm'));
    expect(waited.stdout).toContain('    tick 6');
  });

  it('add -a a,b queues one task per agent; --parent chains; add -w and wait exit 1 unless all COMPLETE', async () => {
    track(startServer(['-w', '2'], home.env));
    const both = await tskJson<TaskJson[]>(['add', '-a', 'script,no-op', '-n', 'multi', '-p', 'echo multi > multi.txt', '-w']);
    expect(both.map((t) => [t.agent, t.status])).toEqual([
      ['script', 'COMPLETE'],
      ['no-op', 'COMPLETE'],
    ]);
    const parent = await add('sleep 4; exit 2', ['-n', 'bad-parent']);
    const child = await add('true', ['-n', 'child', '--parent', parent.id]);
    expect(child.status).toBe('WAITING');
    expect(child.parent).toBe(parent.id);
    const waited = await tsk(['wait', parent.id, child.id]);
    expect(waited.exitCode).toBe(1);
    expect(waited.stdout).toMatch(new RegExp(`^${parent.id} FAILED in \\d+s: Agent exited with code 2$`, 'm'));
    expect(waited.stdout).toMatch(new RegExp(`^${child.id} FAILED in -: parent task ${parent.id} failed$`, 'm'));
    const missing = await tsk(['add', '--agent', 'script', '-p', 'true', '--parent', 'Nope_123']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe('Error: No task Nope_123 to chain after (see `tsk list`)\n');
  });

  it('cancel stops a running task at once and removes a queued one; retry, delete and clean manage tasks; server stop reaches the server', async () => {
    const running = await add('echo started; sleep 300', ['-n', 'long']);
    const queued = await add('true', ['-n', 'queued']);
    const server = track(startServer(['-w', '1'], home.env));
    await server.waitFor(`${running.id} started`);
    await until('the container', async () => (containersOf(running.id) ? true : undefined));

    const cancelled = await tsk(['cancel', queued.id, running.id]);
    expect(cancelled.exitCode, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`^Cancelled ${running.id} \\(was running on .+\\)$`, 'm'));
    expect(cancelled.stdout).toContain(`Cancelled ${queued.id}\n`);
    expect(containersOf(running.id)).toBe('');
    expect((await taskOf(queued.id)).status).toBe('CANCELLED');
    expect(server.output()).not.toContain(`${queued.id} started`);

    const quick = await add('echo v1 > v.txt', ['-n', 'quick']);
    await tsk(['wait', quick.id]);
    const [retried] = await tskJson<TaskJson[]>(['retry', quick.id, '-n', 'quick-again']);
    expect(retried?.name).toBe('quick-again');
    expect((await tsk(['wait', retried?.id ?? ''])).exitCode).toBe(0);
    expect(execFileSync('git', ['show', `tsk/generic/quick-again/${retried?.id}:v.txt`], { cwd: repo, encoding: 'utf8' })).toBe('v1\n');

    expect((await tsk(['delete', quick.id])).stdout).toBe(`Deleted ${quick.id}\n`);
    // The shared checkouts the tasks' copy-on-write workspaces started from are a cache: clean removes them.
    expect((await tsk(['clean', '--older-than', '1d'])).stdout).toMatch(/^Removed 0 finished tasks\nRemoved [1-9]\d* cached checkout\(s\) and 0 leftover workspace volume\(s\)\n$/);
    expect((await tsk(['clean'])).stdout).toBe('Removed 3 finished tasks\n');
    expect(await tskJson<TaskJson[]>(['list'])).toEqual([]);

    const stopped = await tsk(['server', 'stop']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/^Stopped worker /m);
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/worker .+ stopped/);
  });

  it('a worker killed with SIGKILL leaves its task FAILED "worker <name> lost" and the next worker reaps its container', async () => {
    const task = await add('echo started; sleep 300', ['-n', 'doomed']);
    const first = track(startServer(['-w', '1', '--name', 'doomed-worker'], home.env));
    await first.waitFor(`${task.id} started`);
    await until('the container', async () => (containersOf(task.id) ? true : undefined));
    first.child.kill('SIGKILL');
    await first.exited;
    expect(containersOf(task.id)).not.toBe('');

    const next = track(startServer(['-w', '1', '--name', 'next-worker'], home.env));
    const failed = await until('the task to fail', async () => {
      const current = await taskOf(task.id);
      return current.status === 'FAILED' ? current : undefined;
    });
    expect(failed.error).toBe('worker doomed-worker lost');
    await next.waitFor(`removed container tsk-${task.id} left by lost worker doomed-worker`, 60_000);
    expect(containersOf(task.id)).toBe('');
    // The workspace goes right after the container (a copy of the repository: it may take a moment).
    await next.waitFor(new RegExp(`removed workspace .*/${task.id} left by lost worker doomed-worker`), 60_000);
    expect(existsSync(join(home.env.TSK_DATA_HOME ?? '', 'tsk', 'tasks', task.id))).toBe(false);
  });

  it('two worker processes on one Redis split the work and never run a task twice', async () => {
    const tasks = [];
    for (let i = 0; i < 6; i++) tasks.push(await add(`sleep 2; echo ${i} > n.txt`, ['-n', `split-${i}`]));
    const a = track(startWorkerBin(['-w', '1', '--name', 'worker-a', '-q'], home.env));
    const b = track(startWorkerBin(['-w', '1', '--name', 'worker-b', '-q'], home.env));
    const waited = await tsk(['wait', ...tasks.map((t) => t.id)]);
    expect(waited.exitCode, waited.stdout).toBe(0);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);

    const starts = `${a.output()}\n${b.output()}`.match(/ (\w{8}) started /g) ?? [];
    expect(starts.map((line) => line.trim().split(' ')[0]).sort()).toEqual(tasks.map((t) => t.id).sort());
    const workers = (await tskJson<TaskJson[]>(['list'])).map((t) => t.worker);
    expect(new Set(workers)).toEqual(new Set(['worker-a', 'worker-b']));
    for (const task of tasks) {
      const log = await tsk(['logs', task.id]);
      expect(log.stdout.match(/Running on worker/g)).toHaveLength(1);
    }
  });

  it('uses an embedded tsk-redis container when no Redis is configured, and fails in one line when a configured one is unreachable', async () => {
    const name = `tsk-redis-test-${process.pid}`;
    const env: NodeJS.ProcessEnv = { ...home.env, TSK_REDIS_CONTAINER: name };
    delete env.TSK_REDIS_URL;
    try {
      const listed = await tsk(['list'], env);
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect(listed.stdout).toBe('No tasks\n');
      const ports = execFileSync('docker', ['port', name, '6379/tcp'], { encoding: 'utf8' });
      expect(ports.trim()).toMatch(/^127\.0\.0\.1:\d+$/);
      const mounts = execFileSync('docker', ['inspect', name, '--format', '{{range .Mounts}}{{.Name}}{{end}}'], { encoding: 'utf8' });
      expect(mounts.trim()).toBe(`${name}-data`);
    } finally {
      execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
      execFileSync('docker', ['volume', 'rm', '-f', `${name}-data`], { stdio: 'ignore' });
    }

    // How fast it fails is in the benchmark report (tsk list with Redis unreachable).
    const unreachable = await tsk(['list'], { ...home.env, TSK_REDIS_URL: 'redis://:secret@127.0.0.1:1' });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^Error: Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1 \(.*\)\n$/);
  });
});
