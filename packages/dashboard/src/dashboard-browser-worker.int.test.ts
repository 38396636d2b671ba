import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only helpers of the CLI's tests: the built `tsk` and `tsk server start` as a user runs them.
import { startServer, stopProcess, type WatchedProcess } from '../../producer-cli/src/test-utils/queue-processes.js';
import { containersOf, makeSimpleRepo } from '../../producer-cli/src/test-utils/simple-repo.js';
import { tskCli, type TaskJson } from '../../producer-cli/src/test-utils/tsk-cli.js';
import type { Dashboard } from './server.js';
import { launchBrowser, rowIn, type TestBrowser } from './test-utils/browser.js';
import { makeDashboardWorld, type DashboardWorld } from './test-utils/dashboard-fixture.js';

// The dashboard in a real browser while a real worker (`tsk server start`) runs `script` agent tasks in
// Docker, queued from the built `tsk` and from the page: tasks move through the list live, a log follows,
// a diff opens, a running task is cancelled and a finished one followed up from the page, the list is
// filtered, the workers page shows the worker. Run it under `flock /tmp/tsk-docker.lock`.

let root: string;
let repo: string;
let world: DashboardWorld;
let env: NodeJS.ProcessEnv;
let dashboard: Dashboard;
let browser: TestBrowser;
let worker: WatchedProcess | undefined;
let signer: string;
/** The server queues and follows up in this process, and the engine reads its tsk home from `process.env`. */
const savedEnv: Record<string, string | undefined> = {};

const { tsk, tskJson } = tskCli(() => ({ env, cwd: repo }));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tsk-dashboard-browser-'));
  repo = makeSimpleRepo(join(root, 'repo'));
  world = await makeDashboardWorld(`[dashboard]\nrepositories = { demo = "${repo}" }\n`);
  env = { ...world.env, TSK_REDIS_URL: world.redis.url, TSK_PROXY_IDLE_TIMEOUT: '0', NO_COLOR: '1' };
  for (const key of ['HOME', 'TSK_CONFIG_HOME', 'TSK_DATA_HOME', 'TSK_RUNTIME_DIR', 'TSK_REDIS_URL', 'TSK_PROXY_IDLE_TIMEOUT']) {
    savedEnv[key] = process.env[key];
    process.env[key] = env[key];
  }
  dashboard = await world.start();
  browser = await launchBrowser();
  signer = world.trust.key.name;
});

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await browser?.close();
  // A task network (and its proxy) outliving the worker is freed as a user would.
  if (env) await tsk(['proxy', 'stop']);
  await world?.cleanup();
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

async function add(name: string, prompt: string): Promise<TaskJson> {
  const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', name, '-p', prompt]);
  if (!task) throw new Error('tsk add printed no task');
  return task;
}

async function statusOf(id: string): Promise<string | undefined> {
  return (await world.queue.get(id))?.status;
}

/** The page's own marker: still there means the page was never reloaded. */
async function markDocument(page: Page): Promise<unknown> {
  return page.evaluate('window.__sameDocument = Math.random()');
}

function faults(): string[] {
  return browser.problems().filter((line) => line.startsWith('pageerror') || /Content Security Policy/i.test(line));
}

describe('dashboard in a browser with a real worker (real Redis, Docker, tsk CLI)', () => {
  let fromCli: TaskJson;

  it('a task queued from the CLI moves from queued to running to done on the list without a reload; its page shows the log as text and the diff', async () => {
    const list = await browser.newPage();
    await list.goto(dashboard.url);
    await list.locator('#task-total').filter({ hasText: 'tasks' }).waitFor();
    const marker = await markDocument(list);

    fromCli = await add('from-cli', `echo one; sleep 3; echo '<script>window.__pwned = 1</script>'; echo changed > result.txt`);
    await rowIn(list, 'queued', fromCli.id).waitFor({ timeout: 10_000 });
    await browser.screenshot(list, 'tasks-queued');

    worker = startServer(['-w', '2'], env);
    await rowIn(list, 'running', fromCli.id).waitFor({ timeout: 120_000 });
    await browser.screenshot(list, 'tasks-running');
    await rowIn(list, 'done', fromCli.id).waitFor({ timeout: 120_000 });
    expect(await rowIn(list, 'done', fromCli.id).locator('.status').textContent()).toBe('complete');
    expect(await list.evaluate('window.__sameDocument')).toBe(marker);

    const page = await browser.newPage();
    await page.goto(new URL(`/tasks/${fromCli.id}`, dashboard.url).href);
    await expect.poll(() => page.locator('#log .line').allTextContents(), { timeout: 20_000 }).toContain('<script>window.__pwned = 1</script>');
    expect(await page.locator('#log script').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('#task-status').textContent()).toBe('complete');
    await page.locator('#show-diff').click();
    await page.locator('#patch').waitFor({ timeout: 20_000 });
    expect(await page.locator('.diff-files td').first().textContent()).toBe('result.txt');
    expect(await page.locator('#patch .add').allTextContents()).toContain('+changed');
    await browser.screenshot(page, 'task-done-diff');
    expect(faults()).toEqual([]);
  });

  it('a task queued from the page opens its page, whose log follows while it runs', async () => {
    const page = await browser.newPage();
    await page.goto(new URL('/new', dashboard.url).href);
    await page.locator('#repository').selectOption('demo');
    await page.locator('#agent').selectOption('script');
    await page.locator('#prompt').fill('for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 1; done');
    await page.locator('#name').fill('from-page');
    await browser.screenshot(page, 'new-task');
    await page.locator('#new-task button[type="submit"]').click();
    await page.waitForURL(/\/tasks\/[A-Za-z0-9_]+$/, { timeout: 60_000 });
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    expect((await world.queue.get(id))?.name).toBe('from-page');

    // A line while the task still runs: the log is live, not read at the end.
    await page.locator('#log .line.src-agent', { hasText: /^tick 2$/ }).waitFor({ timeout: 120_000 });
    expect(await page.locator('#task-status').textContent()).toBe('running');
    await browser.screenshot(page, 'task-live-log');
    await page.locator('#log .line.src-agent', { hasText: /^tick 8$/ }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('#task-status').textContent(), { timeout: 60_000 }).toBe('complete');
    expect(await page.locator('#log-state').textContent()).toBe('ended');
    // Following kept the end in view.
    expect(await page.locator('#log').evaluate((log) => log.scrollTop + log.clientHeight >= log.scrollHeight - 4)).toBe(true);
    expect(faults()).toEqual([]);
  });

  it('cancels a running task from its page, retries and deletes it; follows up a finished one', async () => {
    const long = await add('long', 'echo started; sleep 300');
    const page = await browser.newPage();
    await page.goto(new URL(`/tasks/${long.id}`, dashboard.url).href);
    // The agent's own line, not tsk's "Started network proxy …" (hasText ignores case).
    await page.locator('#log .line.src-agent', { hasText: /^started$/ }).waitFor({ timeout: 120_000 });
    await expect.poll(() => page.locator('#task-status').textContent(), { timeout: 20_000 }).toBe('running');
    await page.locator('button[data-action="cancel"]').click();
    await browser.screenshot(page, 'confirm-cancel');
    await page.locator('dialog.confirm button[value="ok"]').click();
    await expect.poll(() => page.locator('#task-status').textContent(), { timeout: 60_000 }).toBe('cancelled');
    expect(await statusOf(long.id)).toBe('CANCELLED');
    await expect.poll(() => containersOf(long.id), { timeout: 60_000 }).toBe('');

    // Retry it: a new task with the same instructions, whose page opens; deleting that one (running or
    // not) goes back to the list.
    await page.locator('button[data-action="retry"]').click();
    await page.locator('dialog.confirm button[value="ok"]').click();
    await page.waitForURL((url) => url.pathname.startsWith('/tasks/') && !url.pathname.endsWith(long.id), { timeout: 60_000 });
    const retryId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    expect((await world.queue.get(retryId))?.name).toBe('long');
    await page.locator('button[data-action="delete"]').click();
    await page.locator('dialog.confirm button[value="ok"]').click();
    await page.waitForURL((url) => url.pathname === '/', { timeout: 60_000 });
    expect(await world.queue.get(retryId)).toBeUndefined();
    await expect.poll(() => containersOf(retryId), { timeout: 60_000 }).toBe('');

    await page.goto(new URL(`/tasks/${fromCli.id}`, dashboard.url).href);
    await page.locator('button[data-action="follow-up"]').click();
    await page.locator('#dialog-prompt').fill('echo more >> result.txt');
    await page.locator('dialog.confirm button[value="ok"]').click();
    await page.waitForURL((url) => url.pathname.startsWith('/tasks/') && !url.pathname.endsWith(fromCli.id), { timeout: 60_000 });
    const followUpId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    const stored = await world.queue.stored(followUpId);
    // The signed job is a follow-up of the earlier task (its spec starts from that task's result).
    expect(JSON.stringify(stored.job)).toMatch(new RegExp(`followUp.*${fromCli.id}`));
    await expect.poll(() => statusOf(followUpId), { timeout: 120_000 }).toMatch(/COMPLETE|FAILED/);
    expect(faults()).toEqual([]);
  });

  it('filters the list by agent, person and state (kept in the URL); the workers page shows the worker', async () => {
    const [noOp] = await tskJson<TaskJson[]>(['add', '--agent', 'no-op', '-n', 'nothing', '-p', 'nothing']);
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    await rowIn(page, 'done', fromCli.id).waitFor({ timeout: 10_000 });
    await page.locator('#filter-person').selectOption(signer);
    await page.locator('#filter-state').selectOption('CANCELLED');
    const visible = page.locator('tr[data-id]:not([hidden])');
    await expect.poll(() => visible.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')))).toHaveLength(1);
    expect(await visible.first().getAttribute('data-id')).toBe((await tskJson<TaskJson[]>(['list'])).find((task) => task.name === 'long')?.id);
    const query = new URL(page.url()).searchParams;
    expect([query.get('person'), query.get('state')]).toEqual([signer, 'CANCELLED']);
    // The URL alone gives the same view.
    const again = await browser.newPage();
    await again.goto(page.url());
    await again.locator('tr[data-id]').first().waitFor({ state: 'attached' });
    expect(await again.locator('#filter-state').inputValue()).toBe('CANCELLED');
    expect(await again.locator('tr[data-id]:not([hidden])').count()).toBe(1);
    await page.locator('#filter-state').selectOption('');
    await page.locator('#filter-agent').selectOption('no-op');
    await expect.poll(() => visible.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')))).toEqual([noOp?.id]);
    await page.locator('#filter-agent').selectOption('script');
    await expect.poll(() => visible.count()).toBe((await page.locator('tr[data-id]').count()) - 1);
    await browser.screenshot(page, 'tasks-filtered');

    const workers = await browser.newPage();
    await workers.goto(new URL('/workers', dashboard.url).href);
    const row = workers.locator('tr[data-worker]');
    await row.first().waitFor({ timeout: 30_000 });
    expect(await row.count()).toBe(1);
    const cells = await row.first().locator('td').allTextContents();
    expect(cells[3]).toMatch(/^\d \/ 2$/);
    expect(cells[6]).toBe('running');
    expect(cells[5]).toMatch(/ago$/);
    await browser.screenshot(workers, 'workers');
    expect(faults()).toEqual([]);
  });
});
