import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard } from './server.js';
import { launchBrowser, rowIn, type TestBrowser } from './test-utils/browser.js';
import { makeDashboardWorld, type DashboardWorld } from './test-utils/dashboard-fixture.js';

// The dashboard's page in a real browser (Debian's headless Chromium) against a real Redis, without a
// worker: what the page shows of hostile text, the token, cross-site requests, and 2,000 tasks. The tests
// that run tasks (a worker in Docker) are in dashboard-browser-worker.int.test.ts.

const TOKEN = 'browser-test-token-0123456789';

let world: DashboardWorld;
let browser: TestBrowser;

beforeAll(async () => {
  world = await makeDashboardWorld();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await world?.cleanup();
});

/** Errors the dashboard's page threw, and anything the CSP refused there: it must have none. */
function pageFaults(): string[] {
  return browser.problems().filter((line) => /^(pageerror|console) http:\/\/(127\.0\.0\.1|\[::1\])/.test(line) && (line.startsWith('pageerror') || /Content Security Policy/i.test(line)));
}

describe('dashboard page on loopback (no token)', () => {
  let dashboard: Dashboard;
  beforeAll(async () => {
    await world.connection.flushall();
    dashboard = await world.start();
  });
  afterAll(async () => dashboard?.close());

  it('shows a log line holding <script> and <img onerror> as text; nothing of it runs; todos and proxy denials are read from the log', async () => {
    const task = await world.add({ name: 'hostile-log' });
    const writer = world.queue.forWorker().logWriter(task.id);
    const hostile = ['<script>window.__pwned = 1</script>', '<img src=x onerror="window.__pwned = 2">', '"><svg onload="window.__pwned = 3">'];
    writer.write('tsk', 'Starting script agent');
    for (const line of hostile) writer.write('agent', line);
    writer.write('agent', 'Todo list:');
    writer.write('agent', '  [x] read <b>the</b> code');
    writer.write('agent', '  [~] write the fix');
    writer.write('warn', 'proxy denied CONNECT evil.example:443');
    await writer.flush();

    const page = await browser.newPage();
    await page.goto(new URL(`/tasks/${task.id}`, dashboard.url).href);
    const log = page.locator('#log');
    await expect.poll(() => log.locator('.line').allTextContents(), { timeout: 10_000 }).toEqual(['Starting script agent', ...hostile, 'Todo list:', '  [x] read <b>the</b> code', '  [~] write the fix', 'proxy denied CONNECT evil.example:443']);
    // Text, not markup: no element came out of the lines, no handler ran.
    expect(await log.locator('script, img, svg, b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('#todo-progress').textContent()).toBe('1 of 2 done');
    expect(await page.locator('.todo-list li').allTextContents()).toEqual(['read <b>the</b> code', 'write the fix']);
    expect(await page.locator('.denial-list li').allTextContents()).toEqual(['proxy denied CONNECT evil.example:443']);

    // A line written now arrives without a reload, and the view follows the end.
    const marker = await page.evaluate('window.__sameDocument = Math.random()');
    writer.write('agent', 'Todo: [x] write the fix');
    await writer.flush();
    await expect.poll(() => page.locator('#todo-progress').textContent(), { timeout: 10_000 }).toBe('2 of 2 done');
    expect(await page.evaluate('window.__sameDocument')).toBe(marker);
    await browser.screenshot(page, 'task-hostile-log');
    expect(pageFaults()).toEqual([]);
  });

  it('refuses a cross-site POST (a form and a fetch from a page on another site); the same cancel from the page works', async () => {
    const task = await world.add({ name: 'target' });
    const cancelUrl = new URL(`/api/tasks/${task.id}/cancel`, dashboard.url).href;
    // The attacker's page: another site (localhost on another port; the dashboard is at 127.0.0.1), which
    // fires a no-cors fetch and submits a form whose text/plain body looks like JSON.
    const evil = createServer((req, res) => {
      if (req.url === '/evil.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(`fetch(${JSON.stringify(cancelUrl)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{}' })
          .catch(() => undefined).then(() => document.getElementById('f').submit());`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" enctype="text/plain" action="${cancelUrl}"><input name='{"a":"' value='b"}'></form><script src="/evil.js"></script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
      const page = await browser.newPage();
      const refused = page.waitForResponse((response) => response.url() === cancelUrl && response.request().method() === 'POST' && response.request().resourceType() === 'document');
      await page.goto(evilUrl);
      expect((await refused).status()).toBe(403);
      expect((await world.queue.get(task.id))?.status).toBe('QUEUED');
      await browser.screenshot(page, 'cross-site-refused');

      // The same action from the dashboard's own page goes through (so the refusal above is the origin's).
      const own = await browser.newPage();
      await own.goto(new URL(`/tasks/${task.id}`, dashboard.url).href);
      await own.locator('button[data-action="cancel"]').click();
      await own.locator('dialog.confirm button[value="ok"]').click();
      await expect.poll(async () => (await world.queue.get(task.id))?.status, { timeout: 10_000 }).toBe('CANCELLED');
      await expect.poll(() => own.locator('#task-status').textContent(), { timeout: 10_000 }).toBe('cancelled');
    } finally {
      await closeServer(evil);
    }
  });

  it('deletes a task from its page, after asking (no does nothing), then shows the list', async () => {
    const task = await world.add({ name: 'to-delete' });
    const page = await browser.newPage();
    await page.goto(new URL(`/tasks/${task.id}`, dashboard.url).href);
    await page.locator('button[data-action="delete"]').click();
    await page.locator('dialog.confirm button[value="cancel"]').click();
    expect(new URL(page.url()).pathname).toBe(`/tasks/${task.id}`);
    expect(await world.queue.get(task.id)).toBeDefined();
    await page.locator('button[data-action="delete"]').click();
    await browser.screenshot(page, 'confirm-delete');
    await page.locator('dialog.confirm button[value="ok"]').click();
    await page.waitForURL((url) => url.pathname === '/', { timeout: 10_000 });
    expect(await world.queue.get(task.id)).toBeUndefined();
    expect(pageFaults()).toEqual([]);
  });

  it('lists 2,000 tasks: rendered within a second of the data arriving, filters applied within a second, live updates still reach it', async () => {
    await world.connection.flushall();
    const people = ['alice', 'bob'];
    const added: string[] = [];
    for (let batch = 0; batch < 40; batch++) {
      const tasks = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          return world.add({ name: `bulk-${n}`, project: `project-${n % 4}`, agent: n % 3 === 0 ? 'no-op' : 'script' });
        }),
      );
      added.push(...tasks.map((task) => task.id));
    }
    expect(added).toHaveLength(2000);

    const page = await browser.newPage();
    const started = Date.now();
    await page.goto(dashboard.url);
    // (Polled from here: the page's CSP refuses the string a waitForFunction would evaluate there.)
    await expect.poll(() => page.evaluate("document.querySelectorAll('tr[data-id]').length === 2000 && document.body.dataset.tasksRendered !== undefined"), { timeout: 30_000, interval: 50 }).toBe(true);
    const navigationToRows = Date.now() - started;
    // In-page: from the event's arrival to the frame after its 2,000 rows were added (the page records it).
    const renderMs = Number(await page.evaluate('window.tskTiming.lastRenderMs'));
    // From the navigation's start to the data's arrival: the page's load and the server's first event.
    const dataAt = Number(await page.evaluate('window.tskTiming.lastReceivedAt'));
    // In-page: a filter change until the frame that shows it.
    const filterMs = Number(
      await page.evaluate(`(async () => {
        const start = performance.now();
        const select = document.getElementById('filter-project');
        select.value = 'project-1';
        select.dispatchEvent(new Event('change'));
        await new Promise((resolve) => requestAnimationFrame(resolve));
        return performance.now() - start;
      })()`),
    );
    const visible = await page.locator('tr[data-id]:not([hidden])').count();
    console.log(`2,000 tasks: navigation to 2,000 rows ${navigationToRows} ms (data arrived at ${dataAt.toFixed(0)} ms), data to rendered ${renderMs.toFixed(0)} ms, filter ${filterMs.toFixed(0)} ms`);
    expect(visible).toBe(500);
    expect(new URL(page.url()).searchParams.get('project')).toBe('project-1');
    expect(renderMs).toBeLessThanOrEqual(1000);
    expect(filterMs).toBeLessThanOrEqual(1000);

    // A task queued now shows up in the (filtered) list without a reload.
    const late = await world.add({ name: 'late', project: 'project-1' });
    await rowIn(page, 'queued', late.id).waitFor({ timeout: 10_000 });
    expect(await page.locator('#task-total').textContent()).toBe('501 of 2001 tasks match the filters.');
    await browser.screenshot(page, 'tasks-2000', { fullPage: false });
    expect(pageFaults()).toEqual([]);
  });
});

describe('dashboard bound beyond loopback (token)', () => {
  it('refuses to start without a token', async () => {
    await expect(world.start({ host: '0.0.0.0' })).rejects.toThrow(/needs a token/);
  });

  it('sends the browser to /login; a wrong token is refused, the right one opens the page with an HttpOnly cookie', async () => {
    await world.connection.flushall();
    await world.add({ name: 'behind-token' });
    // Every address, reached here only through loopback.
    const dashboard = await world.start({ host: '0.0.0.0', token: TOKEN });
    try {
      const page = await browser.newPage();
      const api = await page.request.get(new URL('/api/tasks', dashboard.url).href);
      expect(api.status()).toBe(401);
      await page.goto(dashboard.url);
      expect(new URL(page.url()).pathname).toBe('/login');
      await browser.screenshot(page, 'login');

      await page.locator('#token').fill('not-the-token-at-all-000');
      const wrong = page.waitForResponse((response) => response.url().endsWith('/login') && response.request().method() === 'POST');
      await page.locator('button[type="submit"]').click();
      expect((await wrong).status()).toBe(401);
      expect(new URL(page.url()).pathname).toBe('/login');

      await page.locator('#token').fill(TOKEN);
      await page.locator('button[type="submit"]').click();
      await page.locator('tr[data-id] td.name', { hasText: 'behind-token' }).waitFor({ timeout: 10_000 });
      expect(new URL(page.url()).pathname).toBe('/');
      expect(page.url()).not.toContain(TOKEN);
      // The cookie is out of the page's reach, and no answer holds the token.
      expect(await page.evaluate('document.cookie')).toBe('');
      const cookies = await page.context().cookies();
      expect(cookies.map((cookie) => [cookie.httpOnly, cookie.sameSite])).toEqual([[true, 'Strict']]);
      expect(cookies[0]?.value).not.toContain(TOKEN);
      expect(await page.content()).not.toContain(TOKEN);
      expect(await (await page.request.get(new URL('/api/session', dashboard.url).href)).text()).not.toContain(TOKEN);

      // Logging out ends it.
      await page.locator('#logout').click();
      await page.waitForURL((url) => url.pathname === '/login');
      expect((await page.request.get(new URL('/api/tasks', dashboard.url).href)).status()).toBe(401);
      expect(pageFaults()).toEqual([]);
    } finally {
      await dashboard.close();
    }
  });
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
