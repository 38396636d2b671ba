import type { Redis } from 'ioredis';
import type { QueueKeys } from '../queue/index.js';

export interface WorkerHeartbeatOptions {
  redis: Redis;
  keys: QueueKeys;
  worker: string;
  /** @defaultValue 3000 */
  intervalMs?: number;
  /** The heartbeat expires this long after the last beat: then the worker counts as lost. @defaultValue 15_000 */
  ttlMs?: number;
  /** Receives beat failures (Redis away); the next beat retries. */
  onError: (error: Error) => void;
}

/**
 * Proves a worker is alive: a key with a short TTL, refreshed on a timer, plus the worker's name in the
 * registry of queue workers. A process killed with SIGKILL stops beating, and the key expiring is how
 * other workers learn its tasks are lost.
 */
export class WorkerHeartbeat {
  readonly ttlMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(private readonly options: WorkerHeartbeatOptions) {
    this.intervalMs = options.intervalMs ?? 3000;
    this.ttlMs = options.ttlMs ?? 15_000;
    if (this.ttlMs <= this.intervalMs * 2) throw new Error('ttlMs must be more than twice intervalMs');
  }

  /** Beat once (so the worker is alive before it takes a job), then keep beating. */
  async start(): Promise<void> {
    await this.beat();
    this.timer ??= setInterval(() => {
      this.beat().catch((error: unknown) => this.options.onError(error as Error));
    }, this.intervalMs);
  }

  /** Stop beating and remove the key: a worker that stopped cleanly is not "lost". */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.options.redis.del(this.options.keys.heartbeat(this.options.worker));
  }

  private async beat(): Promise<void> {
    const { redis, keys, worker } = this.options;
    await redis
      .multi()
      .set(keys.heartbeat(worker), JSON.stringify({ pid: process.pid, at: new Date().toISOString() }), 'PX', this.ttlMs)
      .zadd(keys.workers, Date.now(), worker)
      .exec();
  }
}
