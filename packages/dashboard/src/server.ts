import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { InputError, loadLocalTrust, stripControl, type LocalTrust } from '@tsk/engine';
import type { MachineConfig } from '@tsk/engine/config';
import type { TaskQueue } from '@tsk/engine/queue';
import express, { type Express, type Request, type Response } from 'express';
import { actionsRouter } from './routes/actions.js';
import type { DashboardContext } from './routes/context.js';
import { diffRouter } from './routes/diff.js';
import { metricsRouter } from './metrics.js';
import { queueBoardRouter } from './queue-board.js';
import { errorHandler, sendError } from './routes/errors.js';
import { eventsRouter } from './routes/events.js';
import { queueingRouter } from './routes/queueing.js';
import { sessionRouter } from './routes/session.js';
import { tasksRouter } from './routes/tasks.js';
import { workersRouter } from './routes/workers.js';
import {
  allowedHostNames,
  CLEARED_SESSION_COOKIE,
  hostCheck,
  requireSession,
  sameOriginWrites,
  sameSecret,
  securityHeaders,
  sessionCookie,
  sessionValue,
} from './security.js';
import { TaskFeed } from './task-feed.js';
import { checkBinding } from './token.js';

/** The front end (no build step): `packages/dashboard/public/`, beside `dist/`. */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

export interface DashboardOptions {
  /** An open queue; the dashboard uses it but does not close it. */
  queue: TaskQueue;
  machine: MachineConfig;
  /** @defaultValue `[dashboard] host` */
  host?: string;
  /** 0 takes any free port. @defaultValue `[dashboard] port` */
  port?: number;
  /** Required unless `host` is loopback (see {@link readDashboardToken}). */
  token?: string;
  /** The signing key and trusted keys. @defaultValue the user's (`loadLocalTrust`: the key is made on first use) */
  trust?: Pick<LocalTrust, 'key' | 'ring'>;
  /** @defaultValue {@link PUBLIC_DIR} */
  publicDir?: string;
  /** How often the queue is polled for live pages. @defaultValue 500 */
  pollMs?: number;
  /** The server's own lines (failures, queued tasks). @defaultValue stderr */
  log?: (line: string) => void;
}

export interface Dashboard {
  /** Where to open it, e.g. `http://127.0.0.1:7777/`. */
  url: string;
  port: number;
  /** Stop listening, end open streams; the queue stays open. */
  close(): Promise<void>;
}

/** The paths the page routes itself (one `index.html`). */
const PAGES = ['/', '/tasks/:id', '/workers', '/new'];

/**
 * Start the dashboard's HTTP server: refuses to listen beyond loopback without a token, then serves the
 * page, its JSON API and event streams (see `api-contract.ts`), each request checked by `security.ts`.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? options.machine.dashboard.host;
  const port = options.port ?? options.machine.dashboard.port;
  checkBinding(host, options.token);
  // What it prints can quote Redis, a repository or a task: never terminal control.
  const log = options.log ?? ((line: string) => process.stderr.write(`${stripControl(line)}\n`));
  const trust = options.trust ?? (await loadLocalTrust(options.machine));
  const feed = new TaskFeed(options.queue, { pollMs: options.pollMs, onError: (message) => log(`dashboard: ${message}`) });
  const context: DashboardContext = { queue: options.queue, machine: options.machine, trust, feed, log };
  const publicDir = options.publicDir ?? PUBLIC_DIR;

  const app = express();
  let server: Server | undefined;
  // The port is known once listening (0 = any); no request is read before then.
  configure(app, () => (server?.address() as AddressInfo).port);
  server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, (error?: Error) => (error ? reject(listenError(error, host, port)) : resolve(listening)));
  });
  const listening = server;
  const actualPort = (listening.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  function configure(app: Express, boundPort: () => number): void {
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(securityHeaders);
    const allowed = allowedHostNames(host, options.machine.dashboard.hosts);
    app.use((req, res, next) => hostCheck(allowed, boundPort())(req, res, next));
    app.use(sameOriginWrites());
    loginRoutes(app, options.token, publicDir);
    app.use(requireSession(options.token));
    app.use('/api', express.json({ limit: '512kb' }));
    for (const router of [sessionRouter, tasksRouter, eventsRouter, actionsRouter, queueingRouter, workersRouter, diffRouter, metricsRouter, queueBoardRouter]) app.use(router(context));
    app.get(PAGES, (_req, res) => page(res, publicDir, 'index.html'));
    app.use(express.static(publicDir, { index: false, dotfiles: 'ignore', etag: false }));
    app.use('/api', (_req, res) => sendError(res, 404, 'No such API route'));
    app.use((_req, res) => sendError(res, 404, 'Not found'));
    app.use(errorHandler(log));
  }

  return {
    url: `http://${shown}:${actualPort}/`,
    port: actualPort,
    async close() {
      await feed.close();
      const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
      // Event streams never end by themselves.
      listening.closeAllConnections();
      await closed;
    },
  };
}

/** Why the server cannot listen, in one line a person can act on. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new InputError(`Cannot serve the dashboard on ${where}: the port is in use`, { hint: 'pick another with --port', cause: error });
    case 'EACCES':
      return new InputError(`Cannot serve the dashboard on ${where}: not allowed to use that port`, { hint: 'pick one above 1023 with --port', cause: error });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new InputError(`Cannot serve the dashboard on ${where}: this machine has no such address`, { hint: 'check --host or [dashboard] host', cause: error });
    default:
      return error;
  }
}

function page(res: Response, publicDir: string, file: string, status = 200): void {
  const path = join(publicDir, file);
  if (!existsSync(path)) return sendError(res, 503, `The dashboard's page (${file}) is missing from this installation`);
  res.status(status).type('html').sendFile(path);
}

/**
 * `GET /login` (the form), `POST /login` (the token for the session cookie; never in a URL) and
 * `POST /logout`. Without a token there is nothing to log in to.
 */
function loginRoutes(app: Express, token: string | undefined, publicDir: string): void {
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  app.get('/login', (_req, res) => (token === undefined ? res.redirect(302, '/') : page(res, publicDir, 'login.html')));
  app.post('/login', form, (req: Request, res: Response) => {
    if (token === undefined) return void res.redirect(303, '/');
    const given = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof given !== 'string' || !sameSecret(given, token)) return page(res, publicDir, 'login.html', 401);
    res.setHeader('Set-Cookie', sessionCookie(sessionValue(token), req.secure));
    res.redirect(303, '/');
  });
  app.post('/logout', (_req, res) => {
    res.setHeader('Set-Cookie', CLEARED_SESSION_COOKIE);
    res.redirect(303, '/login');
  });
}
