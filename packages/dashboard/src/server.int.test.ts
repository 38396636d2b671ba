import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from './security.js';
import { makeDashboardWorld, openSse, rawRequest, type DashboardWorld } from './test-utils/dashboard-fixture.js';
import type { ActionJson, SessionJson, TaskDetailJson, TaskEventJson, TaskListJson, WorkerListJson } from './api-contract.js';
import type { Dashboard } from './server.js';

const TOKEN = 'correct-horse-battery-staple-42';

let world: DashboardWorld;

beforeAll(async () => {
  world = await makeDashboardWorld();
});

afterAll(async () => {
  await world?.cleanup();
});

/** A request as the page sends one that changes something. */
function pageWrite(dashboard: Dashboard, path: string, method = 'POST', body: unknown = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(path, dashboard.url), {
    method,
    headers: { 'Content-Type': 'application/json', 'X-Tsk-Request': '1', Origin: dashboard.url.replace(/\/$/, ''), 'Sec-Fetch-Site': 'same-origin', ...headers },
    body: JSON.stringify(body),
    redirect: 'manual',
  });
}

describe('dashboard on loopback without a token (real Redis, real HTTP)', () => {
  let dashboard: Dashboard;
  beforeAll(async () => {
    await world.connection.flushall();
    dashboard = await world.start();
  });
  afterAll(async () => dashboard?.close());

  it('serves the page under the strict CSP, with nosniff and no referrer', async () => {
    for (const path of ['/', '/tasks/Abc_1234', '/workers', '/new']) {
      const response = await fetch(new URL(path, dashboard.url));
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
    const api = await fetch(new URL('/api/tasks', dashboard.url));
    expect(api.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('refuses a Host that is not its address (DNS rebinding), and answers to localhost', async () => {
    const evil = await rawRequest(new URL('/api/session', dashboard.url).href, { headers: { Host: 'evil.example' } });
    expect(evil.status).toBe(421);
    expect((JSON.parse(evil.text) as { error: string }).error).toMatch(/host name/);
    expect(evil.text).not.toContain(world.trust.key.name);
    const evilWithPort = await rawRequest(dashboard.url, { headers: { Host: `evil.example:${dashboard.port}` } });
    expect(evilWithPort.status).toBe(421);
    const otherPort = await rawRequest(dashboard.url, { headers: { Host: `127.0.0.1:${dashboard.port + 1}` } });
    expect(otherPort.status).toBe(421);
    const rebound = await rawRequest(new URL('/api/tasks/Abc_1234/cancel', dashboard.url).href, {
      method: 'POST',
      headers: { Host: `attacker.example:${dashboard.port}`, Origin: `http://attacker.example:${dashboard.port}`, 'Content-Type': 'application/json', 'X-Tsk-Request': '1' },
      body: '{}',
    });
    expect(rebound.status).toBe(421);
    const localhost = await rawRequest(new URL('/api/session', dashboard.url).href, { headers: { Host: `localhost:${dashboard.port}` } });
    expect(localhost.status).toBe(200);
  });

  it('says who the page acts as, with repository names but never their paths', async () => {
    const session = (await (await fetch(new URL('/api/session', dashboard.url))).json()) as SessionJson;
    expect(session.signer).toBe(world.trust.key.name);
    expect(session.agents).toContain('script');
    expect(session.templates).toContain('generic');
    expect(session.repositories).toEqual([]);
  });

  it('lists tasks with filters, a task with its parent and children, and 404 for unknown or malformed ids', async () => {
    const parent = await world.add({ project: 'alpha', agent: 'script' });
    const child = await world.add({ project: 'alpha', agent: 'script', parentTaskId: parent.id, name: '<script>alert(1)</script>' });
    const other = await world.add({ project: 'beta', agent: 'codex' });
    const all = (await (await fetch(new URL('/api/tasks', dashboard.url))).json()) as TaskListJson;
    expect(all.tasks.map((task) => task.id).sort()).toEqual([parent.id, child.id, other.id].sort());
    const alpha = (await (await fetch(new URL('/api/tasks?project=alpha', dashboard.url))).json()) as TaskListJson;
    expect(alpha.tasks.map((task) => task.id).sort()).toEqual([parent.id, child.id].sort());
    const waiting = (await (await fetch(new URL('/api/tasks?project=alpha&state=WAITING', dashboard.url))).json()) as TaskListJson;
    expect(waiting.tasks.map((task) => task.id)).toEqual([child.id]);
    const codex = (await (await fetch(new URL('/api/tasks?agent=codex', dashboard.url))).json()) as TaskListJson;
    expect(codex.tasks.map((task) => task.id)).toEqual([other.id]);
    const nobody = (await (await fetch(new URL('/api/tasks?person=someone-else', dashboard.url))).json()) as TaskListJson;
    expect(nobody.tasks).toEqual([]);
    const mine = (await (await fetch(new URL(`/api/tasks?person=${encodeURIComponent(world.trust.key.name)}`, dashboard.url))).json()) as TaskListJson;
    expect(mine.tasks).toHaveLength(3);

    const detail = (await (await fetch(new URL(`/api/tasks/${parent.id}`, dashboard.url))).json()) as TaskDetailJson;
    expect(detail.task.id).toBe(parent.id);
    expect(detail.parent).toBeNull();
    expect(detail.children.map((task) => task.id)).toEqual([child.id]);
    const childDetail = (await (await fetch(new URL(`/api/tasks/${child.id}`, dashboard.url))).json()) as TaskDetailJson;
    expect(childDetail.parent?.id).toBe(parent.id);
    // Hostile text travels as JSON data; the page shows it as text.
    expect(childDetail.task.name).toBe('<script>alert(1)</script>');

    expect((await fetch(new URL('/api/tasks/Nope_123', dashboard.url))).status).toBe(404);
    expect((await fetch(new URL('/api/tasks/..%2F..%2Fetc', dashboard.url))).status).toBe(404);
    expect((await fetch(new URL('/api/nothing', dashboard.url))).status).toBe(404);
  });

  it('lists the live workers', async () => {
    const worker = world.queue.forWorker();
    await worker.beat({ name: 'box-1', host: 'box', pid: 1, concurrency: 2, running: [], labels: ['gpu'], version: '0.1.0', startedAt: new Date().toISOString(), stopping: false }, 60_000);
    const body = (await (await fetch(new URL('/api/workers', dashboard.url))).json()) as WorkerListJson;
    expect(body.workers.map((entry) => [entry.name, entry.concurrency, entry.labels])).toEqual([['box-1', 2, ['gpu']]]);
    await worker.leave('box-1');
  });

  it('refuses cross-site writes: another Origin, a cross-site fetch, a form, or no X-Tsk-Request', async () => {
    const task = await world.add();
    const path = `/api/tasks/${task.id}/cancel`;
    const otherOrigin = await pageWrite(dashboard, path, 'POST', {}, { Origin: 'http://evil.example' });
    expect(otherOrigin.status).toBe(403);
    const crossSite = await pageWrite(dashboard, path, 'POST', {}, { 'Sec-Fetch-Site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const form = await fetch(new URL(path, dashboard.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Tsk-Request': '1' },
      body: 'a=b',
    });
    expect(form.status).toBe(403);
    const noHeader = await fetch(new URL(path, dashboard.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(noHeader.status).toBe(403);
    const textPlain = await fetch(new URL(path, dashboard.url), { method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Tsk-Request': '1' }, body: '{}' });
    expect(textPlain.status).toBe(403);
    // None of those touched the task.
    expect((await world.queue.get(task.id))?.status).toBe('QUEUED');
    const ok = await pageWrite(dashboard, path);
    expect(ok.status).toBe(200);
    const action = (await ok.json()) as ActionJson;
    expect(action.message).toBe(`Cancelled ${task.id}`);
    expect(action.task?.status).toBe('CANCELLED');
  });

  it('deletes a task through the engine (its record gone), and says 404 for it after', async () => {
    const task = await world.add();
    const deleted = await pageWrite(dashboard, `/api/tasks/${task.id}`, 'DELETE');
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as ActionJson).message).toBe(`Deleted ${task.id}`);
    expect(await world.queue.get(task.id)).toBeUndefined();
    expect((await pageWrite(dashboard, `/api/tasks/${task.id}`, 'DELETE')).status).toBe(404);
  });

  it('streams the task list: every task first, then what changed and what was removed', async () => {
    const before = await world.add();
    const stream = await openSse(new URL('/api/events', dashboard.url).href);
    try {
      expect(stream.status).toBe(200);
      const first = await nextOf(stream, 'tasks');
      expect(first.full).toBe(true);
      expect(first.changed.map((task) => task.id)).toContain(before.id);
      const workers = await nextOf<WorkerListJson>(stream, 'workers');
      expect(Array.isArray(workers.workers)).toBe(true);
      const added = await world.add();
      const change = await nextOf(stream, 'tasks');
      expect(change).toMatchObject({ full: false, removed: [] });
      expect(change.changed.map((task) => task.id)).toEqual([added.id]);
      await world.queue.cancel(added.id);
      const cancelled = await nextOf(stream, 'tasks');
      expect(cancelled.changed.map((task) => [task.id, task.status])).toEqual([[added.id, 'CANCELLED']]);
      await world.queue.remove(added.id);
      const removed = await nextOf(stream, 'tasks');
      expect(removed).toMatchObject({ full: false, changed: [], removed: [added.id] });
    } finally {
      stream.close();
    }
  });

  it('streams a task log: the lines already written, new ones, then end once the task ended', async () => {
    const task = await world.add();
    const writer = world.queue.forWorker().logWriter(task.id);
    writer.write('tsk', 'Starting');
    writer.write('agent', 'line one\nline two');
    await writer.flush();
    const stream = await openSse(new URL(`/api/tasks/${task.id}/log`, dashboard.url).href);
    try {
      expect(await stream.next()).toEqual({ event: 'line', data: { source: 'tsk', text: 'Starting' } });
      expect(await stream.next()).toEqual({ event: 'line', data: { source: 'agent', text: 'line one' } });
      expect(await stream.next()).toEqual({ event: 'line', data: { source: 'agent', text: 'line two' } });
      writer.write('agent', '<script>alert(1)</script>\u001b[31mred\u0007');
      await writer.flush();
      expect(await stream.next()).toEqual({ event: 'line', data: { source: 'agent', text: '<script>alert(1)</script>red' } });
      await world.queue.cancel(task.id);
      const end = await stream.next(15_000);
      expect(end.event).toBe('end');
      expect(end.data).toMatchObject({ id: task.id, status: 'CANCELLED' });
    } finally {
      stream.close();
    }
    expect((await fetch(new URL('/api/tasks/Nope_123/log', dashboard.url))).status).toBe(404);
  });

  it('stops following a log once its page went away (its Redis connection closed)', async () => {
    const task = await world.add();
    const clients = async () => Number(/connected_clients:(\d+)/.exec(await world.connection.info('clients'))?.[1]);
    const before = await clients();
    const stream = await openSse(new URL(`/api/tasks/${task.id}/log`, dashboard.url).href);
    const writer = world.queue.forWorker().logWriter(task.id);
    writer.write('agent', 'still running');
    await writer.flush();
    expect(await stream.next()).toEqual({ event: 'line', data: { source: 'agent', text: 'still running' } });
    // The task has not ended: its follower holds a connection blocked on the log.
    expect(await clients()).toBe(before + 1);
    stream.close();
    const deadline = Date.now() + 5000;
    while ((await clients()) !== before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await clients()).toBe(before);
    await world.queue.cancel(task.id);
  });

  it('polls the queue once for all pages, and not at all once they left', async () => {
    const one = await openSse(new URL('/api/events', dashboard.url).href);
    expect((await nextOf(one, 'tasks')).full).toBe(true);
    const withOne = await countCommands(world, 1000);
    const more = await Promise.all([1, 2, 3, 4, 5].map(() => openSse(new URL('/api/events', dashboard.url).href)));
    for (const page of more) expect((await nextOf(page, 'tasks')).full).toBe(true);
    const withSix = await countCommands(world, 1000);
    for (const page of [one, ...more]) page.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle = await countCommands(world, 1000);
    // pollMs is 100: about ten polls a second whatever the number of pages (six pages polling each would be six times as many); none once they left.
    expect(withOne).toBeGreaterThan(0);
    expect(withSix).toBeLessThan(withOne * 2);
    expect(idle).toBe(0);
  });

  it('keeps secrets out of every answer (no Redis URL)', async () => {
    for (const path of ['/api/session', '/api/tasks', '/api/workers', '/']) {
      const text = await (await fetch(new URL(path, dashboard.url))).text();
      expect(text).not.toContain(world.redis.url);
      expect(text).not.toContain('redis://');
    }
  });
});

describe('dashboard with a token (team use)', () => {
  it('refuses to listen beyond loopback without a token', async () => {
    await expect(world.start({ host: '0.0.0.0' })).rejects.toThrow(/needs a token/);
  });

  it('says in one line when it cannot listen', async () => {
    const first = await world.start();
    await expect(world.start({ port: first.port })).rejects.toThrow(`Cannot serve the dashboard on 127.0.0.1:${first.port}: the port is in use`);
    await expect(world.start({ host: '192.0.2.1', token: TOKEN })).rejects.toThrow('this machine has no such address');
    await first.close();
  });

  it('asks for the token: 401 and the login page without the cookie, a HttpOnly SameSite=Strict cookie after, never the token in a response', async () => {
    const dashboard = await world.start({ host: '0.0.0.0', token: TOKEN });
    const url = `http://127.0.0.1:${dashboard.port}/`;
    try {
      expect((await fetch(new URL('/api/tasks', url))).status).toBe(401);
      expect((await fetch(new URL('/api/events', url))).status).toBe(401);
      expect((await fetch(new URL('/app.js', url), { redirect: 'manual' })).status).toBe(302);
      const page = await fetch(url, { redirect: 'manual' });
      expect(page.status).toBe(302);
      expect(page.headers.get('location')).toBe('/login');
      const login = await fetch(new URL('/login', url));
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('name="token"');

      const origin = url.replace(/\/$/, '');
      const loginWith = (token: string, headers: Record<string, string> = {}) =>
        fetch(new URL('/login', url), {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, ...headers },
          body: new URLSearchParams({ token }).toString(),
          redirect: 'manual',
        });
      const wrong = await loginWith('not-the-token-at-all');
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('set-cookie')).toBeNull();
      expect((await loginWith(TOKEN, { Origin: 'http://evil.example' })).status).toBe(403);
      // `Origin: null` (a form under no-referrer, or a sandboxed frame) passes only when the browser says same-origin.
      expect((await loginWith(TOKEN, { Origin: 'null' })).status).toBe(403);
      expect((await loginWith(TOKEN, { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
      expect((await loginWith(TOKEN, { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' })).status).toBe(303);

      const right = await loginWith(TOKEN);
      expect(right.status).toBe(303);
      expect(right.headers.get('location')).toBe('/');
      const cookie = right.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^tsk_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
      expect(cookie).not.toContain(TOKEN);
      const session = cookie.split(';')[0]!;

      for (const path of ['/', '/api/session', '/api/tasks', '/api/workers', '/app.js']) {
        const response = await fetch(new URL(path, url), { headers: { Cookie: session } });
        expect(response.status, path).toBe(200);
        const text = await response.text();
        expect(text, path).not.toContain(TOKEN);
        expect([...response.headers.values()].join('\n'), path).not.toContain(TOKEN);
      }
      expect((await fetch(new URL('/api/tasks', url), { headers: { Cookie: 'tsk_session=forged' } })).status).toBe(401);
      // Scripts send the token itself in a header.
      expect((await fetch(new URL('/api/tasks', url), { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await fetch(new URL('/api/tasks', url), { headers: { Authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      // A logged-in page's write still has to be same-origin.
      const task = await world.add();
      const crossSite = await fetch(new URL(`/api/tasks/${task.id}/cancel`, url), {
        method: 'POST',
        headers: { Cookie: session, 'Content-Type': 'application/json', 'X-Tsk-Request': '1', Origin: 'http://evil.example' },
        body: '{}',
      });
      expect(crossSite.status).toBe(403);
      const logout = await fetch(new URL('/logout', url), { method: 'POST', headers: { Cookie: session, Origin: origin }, redirect: 'manual' });
      expect(logout.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    } finally {
      await dashboard.close();
    }
  });
});

async function nextOf<T = TaskEventJson>(stream: Awaited<ReturnType<typeof openSse>>, event: string): Promise<T> {
  for (;;) {
    const next = await stream.next();
    if (next.event === event) return next.data as T;
  }
}

/** Commands Redis ran in `ms` (from INFO's total), minus the INFO calls themselves. */
async function countCommands(world: DashboardWorld, ms: number): Promise<number> {
  const total = async () => Number(/total_commands_processed:(\d+)/.exec(await world.connection.info('stats'))?.[1]);
  const before = await total();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (await total()) - before - 1;
}
