import { randomBytes } from 'node:crypto';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors/index.js';
import type { LogSink } from '../logging/index.js';
import { dockerServices, isWorkerName, openConfiguredQueue } from '../queue/index.js';
import { TaskRunner } from '../runner/task-runner.js';
import { loadLocalTrust } from '../trust/index.js';
import { RunLedger } from './run-ledger.js';
import { desktopNotifier } from './desktop-notifier.js';
import { stopOnSignals } from './stop-on-signals.js';
import { TaskWorker } from './task-worker.js';
import type { WorkerEvent } from './worker-events.js';
import { createWorkerNetworkProvider } from './worker-network.js';
import { WorkerServer } from './worker-server.js';
import type { WorkerTiming } from './worker-timing.js';

export interface CreateWorkerServerOptions {
  /** @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Tasks at once. @defaultValue `[server] workers` */
  concurrency?: number;
  /** @defaultValue `<hostname>-<pid>-<4 hex>`: unique even when a container restarts with the same pid */
  name?: string;
  /** @defaultValue false */
  quitWhenEmpty?: boolean;
  /** `/healthz` address; undefined for none. */
  health: { host: string; port: number } | undefined;
  /** How long running tasks may finish when stopping. @defaultValue 300_000 */
  graceMs?: number;
  /** Desktop notification when a task ends (where there is a desktop). @defaultValue true */
  notify?: boolean;
  timing?: Partial<WorkerTiming>;
  /** Progress of the embedded Redis's first start. */
  log: LogSink;
  onEvent: (event: WorkerEvent) => void;
}

/** A worker server and the function that releases its connections once it has stopped. */
export interface CreatedWorkerServer {
  server: WorkerServer;
  close(): Promise<void>;
}

/** Most tasks one worker runs at once, and the longest grace a stop gives (a Node timer holds ~24.8 days at most). */
export const WORKER_OPTION_LIMITS = { concurrency: 1024, graceSeconds: 7 * 86_400 } as const;

/** A worker's own options, checked before Redis or Docker is asked anything, so what is malformed is said as such. */
function checkWorkerOptions(options: CreateWorkerServerOptions): void {
  if (options.name !== undefined && !isWorkerName(options.name)) {
    throw new InputError(`Invalid worker name ${JSON.stringify(options.name.slice(0, 140))}`, { hint: 'use 1 to 128 letters, digits and . _ : @ -, starting with a letter or digit' });
  }
  const { concurrency, graceMs } = options;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > WORKER_OPTION_LIMITS.concurrency)) {
    throw new InputError(`--workers: expected a whole number from 1 to ${WORKER_OPTION_LIMITS.concurrency}, got ${concurrency}`);
  }
  if (graceMs !== undefined && (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > WORKER_OPTION_LIMITS.graceSeconds * 1000)) {
    throw new InputError(`--grace: expected seconds from 0 to ${WORKER_OPTION_LIMITS.graceSeconds}, got ${graceMs / 1000}`);
  }
}

/** The worker's composition root (shared by `tsk-worker` and `tsk server start`). */
export async function createWorkerServer(options: CreateWorkerServerOptions): Promise<CreatedWorkerServer> {
  checkWorkerOptions(options);
  const env = options.env ?? process.env;
  const name = options.name ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const opened = await openConfiguredQueue({ purpose: 'worker', log: options.log, env });
  try {
    const { config } = opened;
    // TSK keys in the owner's file: said once, when the worker starts.
    for (const warning of config.warnings) options.log.write('warn', warning);
    // The worker's owner is whoever runs it: their key (made on first use) signs results, and with the
    // keys they trust decides which jobs run here.
    const { key, ring } = await loadLocalTrust(config.machine);
    const services = await dockerServices(env);
    const concurrency = options.concurrency ?? config.machine.server.workers;
    const network = createWorkerNetworkProvider(services, { idleTimeoutMs: config.machine.proxy.idleTimeoutMs });
    const runner = new TaskRunner({
      docker: services.docker,
      images: services.images,
      network,
      dataDir: config.machine.dataDir,
      workerName: name,
      agentApiEndpoints: config.machine.agentApi,
    });
    const worker = new TaskWorker({
      queue: opened.queue.forWorker(),
      docker: services.docker,
      executor: runner,
      name,
      concurrency,
      trust: {
        key,
        ring,
        policy: config.machine.worker,
        baseImage: config.machine.baseImage,
        remote: config.remote,
        environment: env,
        ownerHome: env.HOME || homedir(),
        ledger: new RunLedger(join(config.machine.dataDir, 'ledger')),
      },
      dataDir: config.machine.dataDir,
      notify: options.notify === false ? undefined : desktopNotifier(env),
      timing: options.timing,
      startIntervalMs: config.machine.server.startIntervalMs,
      onEvent: options.onEvent,
      // Idle proxies stay warm until their deadline; `tsk proxy stop` is the one that removes them at once.
      sweepNetworks: () => network.sweepIdle(),
    });
    const server = new WorkerServer({
      worker,
      queue: opened.queue,
      runtimeDir: config.machine.runtimeDir,
      cleanup: { dataDir: config.machine.dataDir, ring },
      autoCleanAgeDays: config.machine.server.autoCleanAgeDays,
      health: options.health,
      quitWhenEmpty: options.quitWhenEmpty ?? false,
      graceMs: options.graceMs ?? 300_000,
      concurrency,
      redisUrl: opened.shownUrl,
      onEvent: options.onEvent,
    });
    return { server, close: () => opened.close() };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

/**
 * Create a worker server, run it until it stops (the queue is empty with `quitWhenEmpty`, `tsk server
 * stop`, SIGTERM/SIGINT — a second signal cancels running tasks at once) and release its connections.
 */
export async function runWorkerServer(options: CreateWorkerServerOptions): Promise<void> {
  const { server, close } = await createWorkerServer(options);
  const removeHandlers = stopOnSignals(server);
  try {
    await server.start();
    await server.done;
  } finally {
    removeHandlers();
    await close();
  }
}
