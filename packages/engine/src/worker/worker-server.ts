import { cleanTasks, type TaskCleanup, type TaskQueue } from '../queue/index.js';
import { startHealthServer, type StartedHealthServer } from './health-server.js';
import { writeServerPidFile } from './server-pid-files.js';
import { workerMetricsText } from './worker-metrics.js';
import type { TaskWorker } from './task-worker.js';
import type { WorkerEvent } from './worker-events.js';

export interface WorkerServerOptions {
  worker: TaskWorker;
  queue: TaskQueue;
  /** Where the pid file goes, so `tsk server stop` in another terminal finds this server. */
  runtimeDir: string;
  /** What auto-clean removes besides the queue entries (workspaces, logs, refs on a shared remote). */
  cleanup: TaskCleanup;
  /** Ended tasks older than this are deleted (hourly). 0 turns auto-clean off. */
  autoCleanAgeDays: number;
  /** Serve `/healthz` here; undefined for none. */
  health: { host: string; port: number } | undefined;
  /** Stop once nothing is queued, waiting or running (`-q`). */
  quitWhenEmpty: boolean;
  /** Running tasks get this long to finish when the server stops. */
  graceMs: number;
  concurrency: number;
  redisUrl: string;
  onEvent: (event: WorkerEvent) => void;
}

const HOUR = 3600_000;

/**
 * A worker as a long-running service: the {@link TaskWorker} plus a health endpoint, a pid file, hourly
 * auto-clean and, with `quitWhenEmpty`, an exit when the queue has drained. `done` resolves once it has
 * stopped, whoever stopped it.
 */
export class WorkerServer {
  private health: StartedHealthServer | undefined;
  private removePidFile: (() => Promise<void>) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private resolveDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: WorkerServerOptions) {}

  async start(): Promise<void> {
    const { worker, onEvent } = this.options;
    if (this.options.health) {
      this.health = await startHealthServer({ ...this.options.health, report: () => this.report(), metrics: () => this.metrics() });
    }
    await worker.start();
    this.removePidFile = await writeServerPidFile(this.options.runtimeDir, {
      pid: process.pid,
      worker: worker.name,
      startedAt: new Date().toISOString(),
      health: this.health?.url,
    });
    onEvent({ kind: 'ready', worker: worker.name, concurrency: this.options.concurrency, redis: this.options.redisUrl, health: this.health?.url });
    if (this.options.autoCleanAgeDays > 0) {
      void this.autoClean();
      this.timers.push(setInterval(() => void this.autoClean(), HOUR));
    }
    if (this.options.quitWhenEmpty) this.watchForEmptyQueue();
  }

  /** Graceful stop (see {@link TaskWorker.stop}); safe to call twice. */
  stop(graceMs = this.options.graceMs): Promise<void> {
    this.stopping ??= (async () => {
      this.timers.forEach((timer) => clearInterval(timer));
      try {
        await this.options.worker.stop({ graceMs });
      } finally {
        await this.health?.close();
        await this.removePidFile?.();
        this.resolveDone();
      }
    })();
    return this.stopping;
  }

  /** Cancel running tasks now and stop. */
  stopNow(): Promise<void> {
    this.options.worker.stopNow();
    return this.stop(0);
  }

  private report() {
    const { worker, queue } = this.options;
    const redis = queue.connectionStatus;
    return {
      healthy: redis === 'ready' && !worker.isStopping,
      body: { worker: worker.name, running: worker.runningCount, concurrency: this.options.concurrency, redis, stopping: worker.isStopping },
    };
  }

  private async metrics(): Promise<string> {
    const { worker, queue } = this.options;
    const redisReady = queue.connectionStatus === 'ready';
    // Without Redis the worker's own numbers still answer; the queue's are left out rather than waited for.
    const jobs = redisReady ? await queue.jobCounts().catch(() => undefined) : undefined;
    return workerMetricsText({ worker: worker.name, concurrency: this.options.concurrency, running: worker.runningCount, stopping: worker.isStopping, redisReady, jobs });
  }

  private async autoClean(): Promise<void> {
    try {
      const before = new Date(Date.now() - this.options.autoCleanAgeDays * 24 * HOUR);
      const removed = await cleanTasks(this.options.queue, this.options.cleanup, before);
      if (removed.length > 0) this.options.onEvent({ kind: 'cleaned', count: removed.length });
    } catch (error) {
      this.options.onEvent({ kind: 'error', message: `auto-clean: ${(error as Error).message}` });
    }
  }

  /** Two checks in a row finding nothing to do (a parent ending queues its children in between). */
  private watchForEmptyQueue(): void {
    let emptyChecks = 0;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.isQueueEmpty()
        .then((empty) => {
          emptyChecks = empty ? emptyChecks + 1 : 0;
          if (emptyChecks >= 2) void this.stop();
        })
        .catch(() => (emptyChecks = 0))
        .finally(() => (busy = false));
    }, 1000);
    this.timers.push(timer);
  }

  private async isQueueEmpty(): Promise<boolean> {
    if (this.options.worker.runningCount > 0) return false;
    return this.options.queue.isDrained();
  }
}
