import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's tests: a real redis-server on loopback.
import { startLocalRedis, type LocalRedis } from '../../../engine/src/test-utils/local-redis.js';
import { startServer, startWatched, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { makeTskHome, runTsk, TSK_BIN, type TskHome } from '../test-utils/run-tsk.js';

let redis: LocalRedis;
let home: TskHome;
const processes: WatchedProcess[] = [];

beforeAll(async () => {
  redis = await startLocalRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url, TSK_DASHBOARD_TOKEN: '' });
});

afterEach(async () => {
  for (const process_ of processes.splice(0)) await stopProcess(process_, 'SIGKILL');
});

afterAll(async () => {
  await redis?.stop();
  await home?.cleanup();
});

function start(args: string[], env: NodeJS.ProcessEnv = home.env): WatchedProcess {
  const process_ = startWatched(TSK_BIN, args, env);
  processes.push(process_);
  return process_;
}

async function urlOf(process_: WatchedProcess): Promise<string> {
  const match = await process_.waitFor(/Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/, 60_000);
  return (match as RegExpMatchArray)[1]!;
}

describe('tsk dashboard', () => {
  it('prints its URL, serves the queue, and stops cleanly on Ctrl+C', async () => {
    const dashboard = start(['dashboard', '--port', '0']);
    const url = await urlOf(dashboard);
    expect(dashboard.output()).not.toContain('asks for its token');
    const session = await fetch(new URL('/api/session', url));
    expect(session.status).toBe(200);
    expect(((await session.json()) as { signer: string }).signer).toMatch(/\S/);
    expect((await fetch(new URL('/api/tasks', url))).status).toBe(200);
    // A page still open (its event stream never ends by itself) does not keep it from stopping.
    const page = new AbortController();
    const events = await fetch(new URL('/api/events', url), { signal: page.signal });
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stoppedAt = Date.now();
    dashboard.child.kill('SIGINT');
    expect(await dashboard.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    page.abort();
    await expect(fetch(new URL('/api/session', url))).rejects.toThrow();
  });

  it('refuses to listen beyond loopback without a token, in one line and exit 1; with one it asks for it', async () => {
    const refused = await runTsk(['dashboard', '--host', '0.0.0.0', '--port', '0'], { env: home.env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      'Error: The dashboard on 0.0.0.0 would be open to anyone who reaches that address: it needs a token (set TSK_DASHBOARD_TOKEN or [dashboard] token_file, or bind it to 127.0.0.1)',
    ]);
    const short = await runTsk(['dashboard', '--port', '0'], { env: { ...home.env, TSK_DASHBOARD_TOKEN: 'short' } });
    expect(short.exitCode).toBe(1);
    expect(short.stderr).toMatch(/^Error: The dashboard's token is too short/);

    const token = 'a-team-token-of-some-length';
    const dashboard = start(['dashboard', '--host', '0.0.0.0', '--port', '0'], { ...home.env, TSK_DASHBOARD_TOKEN: token });
    const url = await urlOf(dashboard);
    expect(dashboard.output()).toContain('(asks for its token)');
    expect(dashboard.output()).not.toContain(token);
    expect((await fetch(new URL('/api/tasks', url))).status).toBe(401);
    expect((await fetch(new URL('/api/tasks', url), { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    dashboard.child.kill('SIGTERM');
    expect(await dashboard.exited).toBe(0);
  });
});

describe('tsk server start --dashboard', () => {
  it('serves the dashboard beside the worker, which it lists, until the worker stops', async () => {
    const server = startServer(['--dashboard', '--dashboard-port', '0', '--no-health', '--name', 'dash-worker', '--grace', '1'], home.env);
    processes.push(server);
    const url = await urlOf(server);
    await server.waitFor(/dash-worker|started|waiting|Worker/i, 60_000);
    const deadline = Date.now() + 30_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = ((await (await fetch(new URL('/api/workers', url))).json()) as { workers: { name: string }[] }).workers.map((worker) => worker.name);
      if (names.includes('dash-worker')) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(names).toContain('dash-worker');
    server.child.kill('SIGINT');
    expect(await server.exited, server.output()).toBe(0);
    await expect(fetch(new URL('/api/workers', url))).rejects.toThrow();
  });

  it('refuses --dashboard beyond loopback without a token before the worker starts', async () => {
    const refused = await runTsk(['server', 'start', '--dashboard', '--dashboard-host', '0.0.0.0', '--no-health'], { env: home.env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^Error: The dashboard on 0\.0\.0\.0 would be open to anyone/);
    expect(refused.stdout).not.toMatch(/started/i);
    const alone = await runTsk(['server', 'start', '--dashboard-port', '0', '--no-health'], { env: home.env });
    expect(alone.exitCode).toBe(1);
    expect(alone.stderr.trim()).toBe('Error: --dashboard-host and --dashboard-port go with --dashboard (add --dashboard)');
  });
});
