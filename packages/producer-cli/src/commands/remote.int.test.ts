import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigningKey, type SigningKey } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { startServer, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { git, repoState } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';

/*
 * A shared remote between a producer and a worker that share nothing else: separate tsk homes (keys,
 * data, mirrors), the producer's key trusted by the worker as a teammate's, and a bare repository as the
 * team's git server. Real Redis, real worker, real Docker, real git.
 */


let redis: TestRedis;
let producer: TskHome;
let workerHome: TskHome;
let root: string;
let repo: string;
let remote: string;
let worker: WatchedProcess | undefined;
let producerKey: SigningKey;

const { tsk, tskJson } = tskCli(() => ({ env: producer.env, cwd: repo }));

async function add(prompt: string, extra: string[] = []): Promise<TaskJson> {
  const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-p', prompt, ...extra]);
  if (!task) throw new Error('tsk add printed no task');
  return task;
}

async function waitAll(ids: string[]): Promise<TaskJson[]> {
  const result = await tsk(['wait', ...ids, '--json']);
  return JSON.parse(result.stdout) as TaskJson[];
}

const remoteRefs = () => git(remote, 'for-each-ref', '--format=%(refname)');

beforeAll(async () => {
  redis = await startTestRedis();
  root = mkdtempSync(join(tmpdir(), 'tsk-remote-'));
  remote = join(root, 'team.git');
  execFileSync('git', ['init', '-q', '--bare', remote]);
  repo = makeSimpleRepo(join(root, 'laptop'), { 'README.md': '# shared\n', '.gitignore': '.env\n' });
  producer = await makeTskHome({ TSK_REDIS_URL: redis.url(), TSK_REMOTE_URL: `file://${remote}` });
  workerHome = await makeTskHome({ TSK_REDIS_URL: redis.url(), TSK_REMOTE_URL: `file://${remote}` });
  // Each side trusts the other's key: the worker runs the laptop's tasks, the laptop fetches what the worker signed.
  const producerConfig = join(producer.dir, 'config', 'tsk');
  const workerConfig = join(workerHome.dir, 'config', 'tsk');
  producerKey = await createSigningKey(producerConfig, { name: 'laptop' });
  const workerKey = await createSigningKey(workerConfig, { name: 'worker' });
  writeFileSync(join(producerConfig, 'tsk.toml'), `[worker]\ntrusted_keys = [{ name = "worker", key = "${workerKey.publicKey}" }]\n`);
  writeFileSync(join(workerConfig, 'tsk.toml'), `[worker]\ntrusted_keys = [{ name = "laptop", key = "${producerKey.publicKey}" }]\n`);
  worker = startServer(['-w', '2'], workerHome.env);
  await worker.waitFor(/worker .* ready/);
});

afterAll(async () => {
  if (worker) await stopProcess(worker);
  if (workerHome) await runTsk(['proxy', 'stop'], { env: workerHome.env });
  await redis?.stop();
  await producer?.cleanup();
  await workerHome?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('tasks through a shared remote (real Redis, worker, Docker and git)', () => {
  it('runs tasks and chains from the remote alone; results come home with tsk fetch and leave with tsk delete', async () => {
    // What a user has: an uncommitted edit, an untracked file, and an ignored secret.
    writeFileSync(join(repo, 'README.md'), '# shared, edited\n');
    writeFileSync(join(repo, 'notes.txt'), 'untracked\n');
    writeFileSync(join(repo, '.env'), 'TOKEN=secret\n');
    const before = repoState(repo);

    const first = await tsk(['add', '--agent', 'script', '-p', 'cat README.md notes.txt > seen.txt']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toContain(`Tasks now travel through file://${remote}`);
    const parentId = /Queued (\w{8})/.exec(first.stdout)?.[1] ?? '';
    const child = await add('echo child >> seen.txt', ['--parent', parentId]);
    const unchanged = await add('true');
    // The notice is said once per remote.
    expect((await tsk(['add', '--agent', 'no-op', '-p', 'hi'])).stderr).not.toContain('Tasks now travel through');

    const ended = await waitAll([parentId, child.id, unchanged.id]);
    for (const task of ended) expect(task.status, task.error ?? '').toBe('COMPLETE');
    const [parent, chained, noChange] = ended as [TaskJson, TaskJson, TaskJson];
    expect(parent.remote).toBe(`file://${remote}`);
    expect(parent.resultRef).toBe(`refs/tsk/results/${parentId}`);
    expect(noChange.branch).toBeNull();

    // The worker read the snapshot from the remote: the edit and the untracked file, never the ignored secret.
    const snapshot = `refs/tsk/snapshots/${parentId}`;
    expect(git(remote, 'show', `${snapshot}:notes.txt`)).toBe('untracked');
    expect(() => git(remote, 'show', `${snapshot}:.env`)).toThrow();
    expect(git(remote, 'show', `refs/tsk/results/${parentId}:seen.txt`)).toBe('# shared, edited\nuntracked');
    // The child started from its parent's result, which it only found on the remote.
    expect(git(remote, 'show', `refs/tsk/results/${child.id}:seen.txt`)).toBe('# shared, edited\nuntracked\nchild');
    // Results stay outside refs/heads unless push_branches asks for branches.
    expect(remoteRefs()).not.toContain('refs/heads/');

    // Nothing reached the laptop's repository yet; tsk fetch brings both results as branches.
    expect(git(repo, 'branch', '--list', 'tsk/*')).toBe('');
    const fetched = await tsk(['fetch']);
    expect(fetched.exitCode, fetched.stderr).toBe(0);
    expect(git(repo, 'show', `${parent.branch}:seen.txt`)).toBe('# shared, edited\nuntracked');
    expect(git(repo, 'rev-parse', chained.branch ?? '')).toBe(chained.commit);
    expect((await tsk(['fetch', parentId])).stdout).toContain('already there');
    const after = repoState(repo);
    expect(after.index).toBe(before.index);
    expect(after.head).toBe(before.head);
    expect(after.tree).toBe(before.tree);

    // Deleting the tasks removes their refs from the remote; the fetched branches stay.
    const deleted = await tsk(['delete', parentId, child.id, unchanged.id]);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    for (const id of [parentId, child.id, unchanged.id]) expect(remoteRefs()).not.toContain(id);
    expect(git(repo, 'branch', '--list', 'tsk/*')).not.toBe('');
  });

  it('fails a task whose result the remote refuses, with the reason, and keeps the result on the worker', async () => {
    const hook = join(remote, 'hooks', 'pre-receive');
    // Snapshots are taken; results are refused.
    writeFileSync(hook, '#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/tsk/results/*) echo "results are frozen today" >&2; exit 1;; esac; done\n');
    chmodSync(hook, 0o755);
    try {
      const task = await add('echo kept > kept.txt');
      const [ended] = await waitAll([task.id]);
      expect(ended?.status).toBe('FAILED');
      expect(ended?.error).toContain('could not push');
      expect(ended?.error).toContain('results are frozen today');
      expect(ended?.error).toContain(`as refs/tsk/results/${task.id}`);
      // Reachable in the worker's mirror, from where its operator can push it once the remote accepts it.
      const mirrors = join(workerHome.dir, 'data', 'tsk', 'mirrors');
      const [mirror] = readdirSync(mirrors);
      expect(git(join(mirrors, mirror ?? ''), 'show', `refs/tsk/results/${task.id}:kept.txt`)).toBe('kept');
      expect(remoteRefs()).not.toContain(`refs/tsk/results/${task.id}`);

      // Once the remote takes it again, `tsk retry --push` delivers the kept result: no agent runs again.
      // Another worker cannot, and hands the job back until the one that kept it takes it.
      rmSync(hook);
      const other = await makeTskHome({ TSK_REDIS_URL: redis.url(), TSK_REMOTE_URL: `file://${remote}` });
      mkdirSync(join(other.dir, 'config', 'tsk'), { recursive: true });
      writeFileSync(join(other.dir, 'config', 'tsk', 'tsk.toml'), `[worker]\ntrusted_keys = [{ name = "laptop", key = "${producerKey.publicKey}" }]\n`);
      const second = startServer(['-w', '1'], other.env);
      const keeper = worker as WatchedProcess;
      let retried: TaskJson[] = [];
      try {
        await second.waitFor(/worker .* ready/);
        process.kill(keeper.pid, 'SIGSTOP');
        try {
          retried = await tskJson<TaskJson[]>(['retry', '--push', task.id]);
          await second.waitFor(`${retried[0]?.id} left to another worker`, 20_000);
          const waiting = (await tskJson<TaskJson[]>(['list'])).find((t) => t.id === retried[0]?.id);
          expect(waiting?.status).toBe('QUEUED');
          expect(waiting?.note).toBe(`waiting for the worker that kept the result of task ${task.id}`);
        } finally {
          process.kill(keeper.pid, 'SIGCONT');
        }
      } finally {
        await stopProcess(second);
        await other.cleanup();
      }
      const [pushed] = await waitAll([retried[0]?.id ?? '']);
      expect(pushed?.worker).toBe(ended?.worker);
      expect(pushed?.status, pushed?.error ?? '').toBe('COMPLETE');
      expect(pushed?.commit).toBe(ended?.commit);
      expect(git(remote, 'show', `refs/tsk/results/${pushed?.id}:kept.txt`)).toBe('kept');
      expect((await tsk(['fetch', pushed?.id ?? ''])).exitCode).toBe(0);
      expect(git(repo, 'show', `${pushed?.branch}:kept.txt`)).toBe('kept');
      const again = await tsk(['retry', '--push', pushed?.id ?? '']);
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain('has no kept result to push');
    } finally {
      rmSync(hook, { force: true });
    }
  });

  it('retries a remote task from where it started, on the remote', async () => {
    const original = await add('echo one > retried.txt');
    expect((await waitAll([original.id]))[0]?.status).toBe('COMPLETE');
    const retried = await tsk(['retry', original.id]);
    expect(retried.exitCode, retried.stderr).toBe(0);
    const id = /(\w{8})/.exec(retried.stdout.replace(original.id, ''))?.[1] ?? '';
    const [ended] = await waitAll([id]);
    expect(ended?.status, ended?.error ?? '').toBe('COMPLETE');
    // Both started from the same commit, which the retry pinned under its own snapshot ref on the remote.
    expect(git(remote, 'rev-parse', `refs/tsk/snapshots/${id}`)).toBe(git(remote, 'rev-parse', `refs/tsk/snapshots/${original.id}`));
    expect(git(remote, 'show', `refs/tsk/results/${id}:retried.txt`)).toBe('one');
  });

  it('never pushes the result of a worker that was declared lost while it was frozen', async () => {
    // A second worker, which declares a frozen one lost once its heartbeat is gone.
    const other = await makeTskHome({ TSK_REDIS_URL: redis.url(), TSK_REMOTE_URL: `file://${remote}` });
    const otherConfig = join(other.dir, 'config', 'tsk');
    mkdirSync(otherConfig, { recursive: true });
    writeFileSync(join(otherConfig, 'tsk.toml'), `[worker]\ntrusted_keys = [{ name = "laptop", key = "${producerKey.publicKey}" }]\n`);
    const second = startServer(['-w', '1'], other.env);
    try {
      await second.waitFor(/worker .* ready/);
      const task = await add('sleep 3; echo late > late.txt');
      let view: TaskJson | undefined;
      // Frozen while its agent runs: the agent finishes, the worker cannot see it until it is thawed.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        if ((await tsk(['logs', task.id])).stdout.includes('Starting script agent')) break;
      }
      view = (await tskJson<TaskJson[]>(['list'])).find((t) => t.id === task.id);
      // Worker names end in <pid>-<hex>: freeze whichever of the two took it, while its agent still runs.
      const runner = [worker, second].find((candidate) => view?.worker?.includes(`-${candidate?.pid}-`)) as WatchedProcess;
      expect(runner).toBeDefined();
      process.kill(runner.pid, 'SIGSTOP');
      try {
        // `tsk list` shows it lost as soon as its heartbeat is gone; the other worker records it so.
        const watcher = runner === second ? worker : second;
        await watcher?.waitFor(`${task.id} FAILED: worker ${view?.worker} lost`, 90_000);
      } finally {
        process.kill(runner.pid, 'SIGCONT');
      }
      // Thawed, it goes on (or finds its leftovers reaped), and must not push what is no longer its task.
      await runner.waitFor(new RegExp(`${task.id} (FAILED|COMPLETE|CANCELLED)`), 90_000);
      expect(remoteRefs()).not.toContain(`refs/tsk/results/${task.id}`);
      const [ended] = await waitAll([task.id]);
      expect(ended?.error).toMatch(/worker .* lost/);
    } finally {
      await stopProcess(second);
      await runTsk(['proxy', 'stop'], { env: other.env });
      await other.cleanup();
    }
  });

  it('refuses a teammate’s task on a remote the worker was not set up for', async () => {
    const other = join(root, 'other.git');
    execFileSync('git', ['init', '-q', '--bare', other]);
    const result = await runTsk(['add', '--agent', 'script', '-p', 'true', '--json'], { env: { ...producer.env, TSK_REMOTE_URL: `file://${other}` }, cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    const [task] = JSON.parse(result.stdout) as TaskJson[];
    const [ended] = await waitAll([task?.id ?? '']);
    expect(ended?.status).toBe('FAILED');
    expect(ended?.error).toContain(`the shared remote file://${other} (remotes)`);
    expect(existsSync(join(other, 'refs', 'tsk', 'results'))).toBe(false);
  });

  it('refuses a remote URL with credentials in it before anything is pushed', async () => {
    const result = await runTsk(['add', '--agent', 'script', '-p', 'true'], { env: { ...producer.env, TSK_REMOTE_URL: 'https://user:token@git.invalid/team.git' }, cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('holds credentials');
    expect(result.stderr).not.toContain('token@');
  });
});
