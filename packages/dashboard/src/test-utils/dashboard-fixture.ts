import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadLocalTrust, signTask, taskSigner, type LocalTrust, type MachineConfig, type TaskSpec } from '@tsk/engine';
import { connectRedis, TaskQueue, type TaskView } from '@tsk/engine/queue';
import type { Redis } from 'ioredis';
// Test-only helpers shared with the engine's tests.
import { startLocalRedis, type LocalRedis } from '../../../engine/src/test-utils/local-redis.js';
import { taskSpecFixture } from '../../../engine/src/test-utils/task-spec-fixture.js';
import { startDashboard, type Dashboard, type DashboardOptions } from '../server.js';

/** A tsk home (its own config, data and runtime dirs), a real Redis on loopback and the queue over it. */
export interface DashboardWorld {
  home: string;
  env: NodeJS.ProcessEnv;
  redis: LocalRedis;
  connection: Redis;
  queue: TaskQueue;
  machine: MachineConfig;
  trust: LocalTrust;
  /** Queue a task signed with the home's key (a spec fixture: nothing runs it). */
  add(overrides?: Partial<TaskSpec>): Promise<TaskView>;
  start(options?: Partial<DashboardOptions>): Promise<Dashboard>;
  cleanup(): Promise<void>;
}

let counter = 0;

export async function makeDashboardWorld(userToml?: string): Promise<DashboardWorld> {
  const home = await mkdtemp(join(tmpdir(), 'tsk-dashboard-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    TSK_CONFIG_HOME: join(home, 'config'),
    TSK_DATA_HOME: join(home, 'data'),
    TSK_RUNTIME_DIR: join(home, 'run'),
    TSK_DASHBOARD_TOKEN: '',
  };
  if (userToml !== undefined) {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(home, 'config', 'tsk'), { recursive: true });
    await writeFile(join(home, 'config', 'tsk', 'tsk.toml'), userToml);
  }
  const redis = await startLocalRedis();
  const connection = await connectRedis({ url: redis.url, purpose: 'cli' });
  const queue = new TaskQueue({ connection });
  const { machine } = await loadConfig({ env });
  const trust = await loadLocalTrust(machine);
  const dashboards: Dashboard[] = [];
  return {
    home,
    env,
    redis,
    connection,
    queue,
    machine,
    trust,
    async add(overrides = {}) {
      const id = overrides.id ?? `Dsh${String(counter++).padStart(5, '0')}`;
      const spec = taskSpecFixture({ id, branch: `tsk/generic/demo/${id}`, signer: taskSigner(trust.key), ...overrides });
      return queue.add(signTask({ ...spec, source: { kind: 'local', repoPath: spec.repoPath, ref: `refs/tsk/snapshots/${id}`, commit: 'a'.repeat(40) } }, trust.key));
    },
    async start(options = {}) {
      const dashboard = await startDashboard({ queue, machine, trust, host: '127.0.0.1', port: 0, pollMs: 100, log: () => undefined, ...options });
      dashboards.push(dashboard);
      return dashboard;
    },
    async cleanup() {
      for (const dashboard of dashboards.splice(0)) await dashboard.close();
      await queue.close();
      connection.disconnect();
      await redis.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** One server-sent event. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Read a server-sent event stream with fetch (as a page's EventSource would): `next()` gives the next
 * event, `close()` hangs up.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<{ status: number; next(timeoutMs?: number): Promise<SseEvent>; close(): void }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queued: SseEvent[] = [];
  return {
    status: response.status,
    async next(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = queued.shift();
        if (ready) return ready;
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) queued.push({ event, data: JSON.parse(data) as unknown });
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no event within ${timeoutMs}ms`);
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs}ms`)), left))),
        ]).finally(() => clearTimeout(timer));
        if (chunk.done) throw new Error('the stream ended');
        buffer += chunk.value;
      }
    },
    close: () => abort.abort(),
  };
}

/**
 * One HTTP request with exactly the headers given (fetch will not send a `Host` of one's choosing, and a
 * DNS-rebinding page's browser does).
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
