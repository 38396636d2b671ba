import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only helpers of the CLI's tests: a repository, and the built worker as a user starts it.
import { makeSimpleRepo } from '../../producer-cli/src/test-utils/simple-repo.js';
import { startServer, stopProcess, type WatchedProcess } from '../../producer-cli/src/test-utils/queue-processes.js';
import type { ActionJson, DiffJson, ErrorJson, TaskDetailJson, TaskListJson } from './api-contract.js';
import type { Dashboard } from './server.js';
import { makeDashboardWorld, type DashboardWorld } from './test-utils/dashboard-fixture.js';

let world: DashboardWorld;
let dashboard: Dashboard;
let root: string;
let repo: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tsk-dashboard-actions-'));
  repo = makeSimpleRepo(join(root, 'app'));
  world = await makeDashboardWorld(`[dashboard]\nrepositories = { app = "${repo}" }\n`);
  dashboard = await world.start();
});

afterAll(async () => {
  await world?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

function write(path: string, body: unknown, method = 'POST'): Promise<Response> {
  return fetch(new URL(path, dashboard.url), {
    method,
    headers: { 'Content-Type': 'application/json', 'X-Tsk-Request': '1', Origin: dashboard.url.replace(/\/$/, '') },
    body: JSON.stringify(body),
  });
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

describe('queueing and actions from the page (real Redis, real git)', () => {
  it('queues a task only on a repository named in [dashboard] repositories, signed with the running user’s key', async () => {
    const refused = [
      { repository: repo, template: 'generic', agent: 'script', prompt: 'true' },
      { repository: '../app', template: 'generic', agent: 'script', prompt: 'true' },
      { repository: '__proto__', template: 'generic', agent: 'script', prompt: 'true' },
      { repository: 'app', template: 'generic', agent: 'nobody', prompt: 'true' },
      { repository: 'app', template: '../../etc/passwd', agent: 'script', prompt: 'true' },
      { repository: 'app', template: 'generic', agent: 'script', prompt: '   ' },
      { repository: 'app', template: 'generic', agent: 'script', prompt: 'true', name: 'a b/c' },
    ];
    for (const body of refused) expect((await write('/api/tasks', body)).status, JSON.stringify(body)).toBe(400);
    const unknownTemplate = await json<ErrorJson>(await write('/api/tasks', { repository: 'app', template: 'no-such-template', agent: 'script', prompt: 'true' }), 400);
    expect(unknownTemplate.error).toMatch(/no-such-template/);

    const queued = await json<TaskListJson>(await write('/api/tasks', { repository: 'app', template: 'generic', agent: 'script', prompt: 'echo hello', name: 'from-page' }), 201);
    const [task] = queued.tasks;
    expect(task).toMatchObject({ name: 'from-page', agent: 'script', status: 'QUEUED', queuedBy: world.trust.key.name, project: 'app' });
    // The snapshot is in the repository, as `tsk add` leaves it.
    expect(execFileSync('git', ['-C', repo, 'for-each-ref', '--format=%(refname)', 'refs/tsk/snapshots/'], { encoding: 'utf8' })).toContain(task!.id);
    const stored = (await world.queue.stored(task!.id)).job as { spec: string };
    expect(JSON.stringify(stored)).toContain(repo);
  });

  it('retries a task as a new one, refuses a follow-up of a task without a result, and says why a diff is not there', async () => {
    const [task] = (await json<TaskListJson>(await write('/api/tasks', { repository: 'app', template: 'generic', agent: 'script', prompt: 'echo again' }), 201)).tasks;
    const retried = await json<ActionJson>(await write(`/api/tasks/${task!.id}/retry`, {}), 201);
    expect(retried.message).toMatch(new RegExp(`^Queued \\w{8} \\(retry of ${task!.id}; generic, \\w+, script\\)$`));
    expect(retried.task?.id).not.toBe(task!.id);
    expect(retried.task?.status).toBe('QUEUED');

    const followUp = await json<ErrorJson>(await write(`/api/tasks/${task!.id}/follow-up`, { prompt: 'more' }), 400);
    expect(followUp.error).toMatch(/is QUEUED: a follow-up starts from a COMPLETE task's result/);
    expect((await write(`/api/tasks/${task!.id}/follow-up`, {})).status).toBe(400);
    expect((await write('/api/tasks/Zzzz_999/retry', {})).status).toBe(404);

    const diff = await json<ErrorJson>(await fetch(new URL(`/api/tasks/${task!.id}/diff`, dashboard.url)), 409);
    expect(diff.error).toMatch(/no result yet/);
    expect((await fetch(new URL('/api/tasks/Zzzz_999/diff', dashboard.url))).status).toBe(404);
  });

  it('refuses to act on a task signed by a key the user does not trust (Redis is hostile)', async () => {
    const { createSigningKey, signTask, taskSigner } = await import('@tsk/engine/signing');
    const { taskSpecFixture } = await import('../../engine/src/test-utils/task-spec-fixture.js');
    const strangerHome = mkdtempSync(join(root, 'stranger-'));
    const stranger = await createSigningKey(strangerHome, { name: 'mallory@elsewhere' });
    const spec = taskSpecFixture({ id: 'Strangr1', repoPath: repo, signer: taskSigner(stranger), branch: 'tsk/generic/demo/Strangr1' });
    await world.queue.add(signTask({ ...spec, source: { kind: 'local', repoPath: repo, ref: 'refs/tsk/snapshots/Strangr1', commit: 'a'.repeat(40) } }, stranger));
    const retry = await json<ErrorJson>(await write('/api/tasks/Strangr1/retry', {}), 403);
    expect(retry.error).toMatch(/mallory|trust|sign/i);
    expect((await write('/api/tasks/Strangr1/follow-up', { prompt: 'x' })).status).toBe(403);
  });
});

describe('a task queued from the page runs on a real worker (Docker)', () => {
  const processes: WatchedProcess[] = [];
  afterAll(async () => {
    for (const process_ of processes.splice(0)) await stopProcess(process_, 'SIGKILL');
  });

  it('runs, shows its diff, is followed up, and the follow-up is cancelled from the page', async () => {
    await world.connection.flushall();
    const prompt = 'echo from-the-page > page.txt\ngit add page.txt\ngit commit -q -m "page: add page.txt"';
    const [task] = (await json<TaskListJson>(await write('/api/tasks', { repository: 'app', template: 'generic', agent: 'script', prompt, name: 'page' }), 201)).tasks;
    const worker = startServer(['-q', '--grace', '5'], { ...world.env, TSK_REDIS_URL: world.redis.url, TSK_PROXY_IDLE_TIMEOUT: '0' });
    processes.push(worker);
    await worker.exited;
    const detail = await json<TaskDetailJson>(await fetch(new URL(`/api/tasks/${task!.id}`, dashboard.url)), 200);
    expect(detail.task.status, worker.output()).toBe('COMPLETE');

    const diff = await json<DiffJson>(await fetch(new URL(`/api/tasks/${task!.id}/diff`, dashboard.url)), 200);
    expect(diff.branch).toBe(detail.task.branch);
    expect(diff.files).toEqual([{ path: 'page.txt', added: 1, removed: 0, binary: false }]);
    expect(diff.patch).toContain('+from-the-page');
    expect(diff.truncated).toBe(false);

    // Where the repository is not on this machine, neither git nor a follow-up goes looking for it.
    renameSync(repo, `${repo}-away`);
    try {
      const elsewhere = await json<ErrorJson>(await fetch(new URL(`/api/tasks/${task!.id}/diff`, dashboard.url)), 409);
      expect(elsewhere.error).toBe('The repository is on another machine: tsk fetch');
      const followUpElsewhere = await json<ErrorJson>(await write(`/api/tasks/${task!.id}/follow-up`, { prompt: 'more' }), 409);
      expect(followUpElsewhere.error).toBe('The repository is on another machine: tsk fetch');
    } finally {
      renameSync(`${repo}-away`, repo);
    }

    const followUp = await json<ActionJson>(await write(`/api/tasks/${task!.id}/follow-up`, { prompt: 'echo more >> page.txt' }), 201);
    expect(followUp.message).toMatch(new RegExp(`^Queued (\\w{8}) \\(follow-up of ${task!.id}; generic, \\w+, script\\)$`));
    const next = followUp.task!;
    expect(next.status).toBe('QUEUED');
    const stored = JSON.stringify((await world.queue.stored(next.id)).job);
    expect(stored).toContain(task!.id);
    const cancelled = await json<ActionJson>(await write(`/api/tasks/${next.id}/cancel`, {}), 200);
    expect(cancelled).toMatchObject({ message: `Cancelled ${next.id}`, task: { status: 'CANCELLED' } });
  });
});
