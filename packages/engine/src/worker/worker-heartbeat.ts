import type { WorkerQueue, WorkerReport } from '../queue/index.js';

export interface WorkerHeartbeatOptions {
  /** Where the beats go: the queue's registry of workers. */
  queue: Pick<WorkerQueue, 'beat' | 'leave'>;
  /** What the worker says about itself now (asked at every beat). */
  report: () => WorkerReport;
  /** @defaultValue 3000 */
  intervalMs?: number;
  /** The heartbeat expires this long after the last beat: then the worker counts as lost. @defaultValue 15_000 */
  ttlMs?: number;
  /** Receives beat failures (Redis away); the next beat retries. */
  onError: (error: Error) => void;
}

/**
 * Proves a worker is alive and says what it is (host, capacity, running tasks, labels, version, whether it
 * is stopping): its report in a key with a short TTL, refreshed on a timer, plus its name in the registry
 * of queue workers. A process killed with SIGKILL stops beating, and the key expiring is how other
 * workers learn its tasks are lost and `tsk workers` stops listing it.
 */
export class WorkerHeartbeat {
  readonly ttlMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  /** The beat on its way, awaited before leaving so that it cannot bring the worker back afterwards. */
  private beating: Promise<void> | undefined;

  constructor(private readonly options: WorkerHeartbeatOptions) {
    this.intervalMs = options.intervalMs ?? 3000;
    this.ttlMs = options.ttlMs ?? 15_000;
    if (this.ttlMs <= this.intervalMs * 2) throw new Error('ttlMs must be more than twice intervalMs');
  }

  /** Beat once (so the worker is alive before it takes a job), then keep beating. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => this.beatNow(), this.intervalMs);
  }

  /** Beat now, outside the timer (the worker's state changed: it is stopping). */
  beatNow(): void {
    if (this.timer === undefined) return;
    this.beat().catch((error: unknown) => this.options.onError(error as Error));
  }

  /** Stop beating and leave the registry: a worker that stopped cleanly is not "lost". */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating?.catch(() => undefined);
    await this.options.queue.leave(this.options.report().name);
  }

  private beat(): Promise<void> {
    const beat = this.options.queue.beat(this.options.report(), this.ttlMs);
    this.beating = beat;
    return beat.finally(() => {
      if (this.beating === beat) this.beating = undefined;
    });
  }
}
