import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { startServer, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';

let redis: TestRedis;
let home: TskHome;
let root: string;
let repo: string;
const processes: WatchedProcess[] = [];

/** Work an agent committed, work it left uncommitted, then a hang that only a budget ends. */
const WORK_THEN_HANG = ['echo committed > done.txt', 'git add done.txt', 'git commit -q -m "agent: first step"', 'echo left > leftover.txt', 'echo "working..."', 'sleep 600'].join('\n');

beforeAll(async () => {
  redis = await startTestRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
  root = mkdtempSync(join(tmpdir(), 'tsk-budgets-'));
  repo = makeSimpleRepo(join(root, 'repo'));
  // The machine's ceiling: no task here runs longer, whatever it asks.
  mkdirSync(join(home.env.TSK_CONFIG_HOME ?? '', 'tsk'), { recursive: true });
  writeFileSync(join(home.env.TSK_CONFIG_HOME ?? '', 'tsk', 'tsk.toml'), '[worker]\nmax_timeout = "6s"\n');
});

afterEach(async () => {
  for (const process_ of processes.splice(0)) await stopProcess(process_, 'SIGTERM');
});

afterAll(async () => {
  if (home) await tsk(['proxy', 'stop']);
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const { tsk, tskJson } = tskCli(() => ({ env: home.env, cwd: repo }));

/** The task's work on its branch: the committed step, then tsk's commit of what was left. */
function expectWorkKept(task: TaskJson): void {
  expect(task.branch).toMatch(/^tsk\//);
  expect(git(repo, 'show', `${task.branch}:done.txt`)).toBe('committed');
  expect(git(repo, 'show', `${task.branch}:leftover.txt`)).toBe('left');
  expect(git(repo, 'log', '--format=%s', `main..${task.branch}`).split('\n')).toContain('agent: first step');
}

describe('budgets stop the agent and keep its work (built CLI, real Docker, real git)', () => {
  it('tsk run --timeout stops the agent at its wall time: FAILED "timed out", the work on the branch', async () => {
    const result = await tsk(['run', '--json', '--agent', 'script', '-n', 'slow', '--timeout', '3s', '-p', WORK_THEN_HANG]);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(result.exitCode).toBe(1);
    expect(task.status).toBe('FAILED');
    expect(task.error).toBe('timed out after 3s');
    expect(result.stderr).toContain('Stopping the agent: timed out after 3s');
    expectWorkKept(task);
  });

  it('a worker’s max_timeout lowers a job’s own timeout; the task ends FAILED with its work, and is not retried', async () => {
    const added = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', 'ceiling', '--timeout', '1h', '-p', WORK_THEN_HANG]);
    const id = added[0]?.id ?? '';
    processes.push(startServer(['-w', '1'], home.env));
    const waited = await tsk(['wait', id]);
    expect(waited.exitCode).toBe(1);
    expect(waited.stdout + waited.stderr).toContain('timed out after 6s');
    const [task] = (await tskJson<TaskJson[]>(['list'])).filter((listed) => listed.id === id);
    expect(task).toMatchObject({ status: 'FAILED', error: 'timed out after 6s' });
    expectWorkKept(task!);
    const log = await tsk(['logs', id]);
    expect(log.stdout).toContain('(budget: 6s)');
  });

  it('refuses a budget that is not one, in one line', async () => {
    for (const [flag, value, message] of [
      ['--timeout', '90', '--timeout: expected a duration such as 45s, 90m or 2h, got "90"'],
      ['--max-cost', 'lots', '--max-cost: expected an amount in US dollars greater than 0, got "lots"'],
    ] as const) {
      const result = await tsk(['run', '--agent', 'script', '-p', 'true', flag, value]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim()).toBe(`Error: ${message}`);
    }
    expect(git(repo, 'branch', '--list', 'tsk/*').split('\n').filter(Boolean)).toHaveLength(2);
  });
});
