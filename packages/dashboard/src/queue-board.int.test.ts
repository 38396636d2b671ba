import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_BOARD_CSP } from './queue-board.js';
import { sessionValue } from './security.js';
import { makeDashboardWorld, rawRequest, type DashboardWorld } from './test-utils/dashboard-fixture.js';

/*
 * `/queues` (the read-only BullMQ board) inside the real dashboard, on a real Redis, over real HTTP: it
 * serves, it changes nothing whatever is asked, and the dashboard's Host check and token apply to it.
 * The board's CSP is checked in Chromium: every view loads with no violation but the one we mean (its
 * Google Fonts stylesheet stays refused), and no request leaves the machine.
 */

const TOKEN = 'queue-board-test-token-0123456789abcdef';
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const CHROMIUM = process.env.TSK_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** The repository's `test-results/dashboard/` (gitignored), where the dashboard's browser tests keep their screenshots. */
const SCREENSHOTS = resolve(fileURLToPath(import.meta.url), '../../../../test-results/dashboard');

let world: DashboardWorld;
let base: string;
let origin: string;
let queueName: string;
const ids: string[] = [];

beforeAll(async () => {
  world = await makeDashboardWorld();
  // The first one's instructions are hostile markup: the board must show them as text.
  ids.push((await world.add({ instructions: HOSTILE })).id);
  for (let i = 0; i < 2; i++) ids.push((await world.add()).id);
  const dashboard = await world.start({ token: TOKEN });
  base = dashboard.url;
  origin = base.replace(/\/$/, '');
  queueName = (await boardQueues())[0]!.name;
});

afterAll(async () => {
  await world?.cleanup();
});

const auth = { Authorization: `Bearer ${TOKEN}` };

async function boardQueues(): Promise<{ name: string; readOnlyMode: boolean; isPaused: boolean; counts: Record<string, number> }[]> {
  const response = await fetch(new URL('/queues/api/queues', base), { headers: auth });
  expect(response.status).toBe(200);
  return ((await response.json()) as { queues: { name: string; readOnlyMode: boolean; isPaused: boolean; counts: Record<string, number> }[] }).queues;
}

describe('/queues, the BullMQ board (real Redis, real HTTP)', () => {
  it('serves its page under its own CSP and shows tsk’s queue, read-only, with the queued jobs', async () => {
    const page = await fetch(new URL('/queues/', base), { headers: auth });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(QUEUE_BOARD_CSP);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-powered-by')).toBeNull();
    const html = await page.text();
    expect(html).toContain('<base href="/queues/"');
    expect(html).not.toContain(TOKEN);
    const queues = await boardQueues();
    expect(queues.map((queue) => queue.name)).toEqual([queueName]);
    expect(queues[0]).toMatchObject({ readOnlyMode: true, isPaused: false });
    expect(queues[0]!.counts.waiting).toBe(3);
    const job = await fetch(new URL(`/queues/api/queues/${encodeURIComponent(queueName)}/${ids[0]}`, base), { headers: auth });
    expect(job.status).toBe(200);
    expect(((await job.json()) as { job: { id: string } }).job.id).toBe(ids[0]);
  });

  it('refuses every action (retry, promote, clean, pause, resume, empty, obliterate, remove, add, update), and nothing changes', async () => {
    const q = encodeURIComponent(queueName);
    const actions: [string, string][] = [
      ['PUT', `/queues/api/queues/${q}/retry/failed`],
      ['PUT', `/queues/api/queues/${q}/promote`],
      ['PUT', `/queues/api/queues/${q}/clean/waiting`],
      ['PUT', `/queues/api/queues/${q}/pause`],
      ['PUT', `/queues/api/queues/${q}/resume`],
      ['PUT', '/queues/api/queues/pause'],
      ['PUT', `/queues/api/queues/${q}/empty`],
      ['PUT', `/queues/api/queues/${q}/obliterate`],
      ['POST', `/queues/api/queues/${q}/add`],
      ['PUT', `/queues/api/queues/${q}/${ids[0]}/clean`],
      ['PUT', `/queues/api/queues/${q}/${ids[0]}/retry`],
      ['PUT', `/queues/api/queues/${q}/${ids[0]}/promote`],
      ['PATCH', `/queues/api/queues/${q}/${ids[0]}/update-data`],
      ['DELETE', `/queues/api/queues/${q}/${ids[0]}`],
    ];
    for (const [method, path] of actions) {
      // As the dashboard's own page would send it (same origin, the header, JSON): the board still refuses.
      const sent = await fetch(new URL(path, base), {
        method,
        headers: { ...auth, Origin: origin, 'Content-Type': 'application/json', 'X-Tsk-Request': '1' },
        body: JSON.stringify({ name: 'evil', data: {} }),
      });
      expect(sent.status, `${method} ${path}`).toBe(405);
      // As another site or a plain script would: refused before it reaches the board.
      const plain = await fetch(new URL(path, base), { method, headers: { ...auth, 'Content-Type': 'application/json' }, body: '{}' });
      expect(plain.status, `${method} ${path}`).toBe(403);
    }
    const [queue] = await boardQueues();
    expect(queue).toMatchObject({ isPaused: false });
    expect(queue!.counts.waiting).toBe(3);
    expect((await world.queue.list()).map((task) => [task.id, task.status])).toEqual(ids.map((id) => [id, 'QUEUED']));
  });

  it('is behind the dashboard’s security: no session, a wrong token or a foreign Host is refused', async () => {
    // A GET outside /api/ is sent to the login page (the board's own API included); nothing of the queue comes back.
    const refusedHeaders: Record<string, string>[] = [{}, { Authorization: 'Bearer not-the-token-at-all-0000' }, { Cookie: 'tsk_session=forged' }];
    for (const headers of refusedHeaders) {
      for (const path of ['/queues/', '/queues/api/queues', `/queues/api/queues/${encodeURIComponent(queueName)}/${ids[0]}`, '/queues/static/js/missing.js']) {
        const refused = await fetch(new URL(path, base), { headers, redirect: 'manual' });
        expect(refused.status, path).toBe(302);
        expect(refused.headers.get('location'), path).toBe('/login');
        expect(await refused.text(), path).not.toContain(ids[0]);
      }
    }
    const rebound = await rawRequest(new URL('/queues/api/queues', base).toString(), { headers: { ...auth, Host: `evil.example:${new URL(base).port}` } });
    expect(rebound.status).toBe(421);
    expect((await fetch(new URL('/queues/api/queues', base), { headers: { Cookie: `tsk_session=${sessionValue(TOKEN)}` } })).status).toBe(200);
  });
});

describe('/queues in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the queue and a job under the board’s CSP, with no violation but the refused web font, and no request elsewhere', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { hostname, port } = new URL(base);
    await context.addCookies([{ name: 'tsk_session', value: sessionValue(TOKEN), domain: hostname, path: '/', httpOnly: true, sameSite: 'Strict' }]);
    const elsewhere: string[] = [];
    // Nothing may leave loopback: anything addressed elsewhere is aborted here (and noted).
    await context.route('**/*', (route) => {
      const target = new URL(route.request().url());
      if (target.hostname === hostname && target.port === port) return route.continue();
      elsewhere.push(target.href);
      return route.abort();
    });
    const page = await context.newPage();
    // A loaded machine (two cores, other suites running) renders slowly: waits are generous, nothing depends on speed.
    page.setDefaultTimeout(90_000);
    const violations: string[] = [];
    const errors: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      else if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    /**
     * Open `path` until `text` shows. Under load the board's first fetch can come back before its list is
     * drawn and the view then waits for its next poll; opening it again is what a person would do.
     */
    const open = async (path: string, text: string) => {
      for (let attempt = 1; ; attempt++) {
        await page.goto(new URL(path, base).toString());
        try {
          await page.getByText(text, { exact: false }).first().waitFor({ timeout: 30_000 });
          return;
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
    };
    await open('/queues/', queueName);
    await open(`/queues/queue/${encodeURIComponent(queueName)}?status=waiting`, ids[0]!);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'queues.png'), fullPage: true });
    await open(`/queues/queue/${encodeURIComponent(queueName)}/${ids[0]}`, ids[0]!);
    // The job's hostile instructions are on the page as text, and ran nothing.
    expect(await page.content()).toContain('window.__pwned=2');
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    // Let late loads (locales, fonts, polling) happen before judging.
    await page.waitForTimeout(1500);
    const unexpected = violations.filter((text) => !/fonts\.googleapis\.com/.test(text));
    expect(unexpected).toEqual([]);
    expect(errors.filter((text) => !/fonts\.googleapis\.com|Content Security Policy/.test(text))).toEqual([]);
    expect(elsewhere.filter((href) => !/^https:\/\/fonts\.googleapis\.com\//.test(href))).toEqual([]);
    // The board offers no action: its buttons for them are not there.
    expect(await page.getByRole('button', { name: /^(retry|promote|clean|remove|pause|delete)/i }).count()).toBe(0);
  });
});
