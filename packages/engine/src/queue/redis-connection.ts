import { Redis, type RedisOptions } from 'ioredis';
import { QueueError } from '../errors/index.js';
import { log } from '../logging/index.js';

/**
 * `cli`: a short-lived command; commands fail after one retry instead of queueing while Redis is away.
 * `worker`: a long-lived process; commands wait for Redis to come back (BullMQ's blocking connections
 * require `maxRetriesPerRequest: null`).
 */
export type RedisPurpose = 'cli' | 'worker';

export interface ConnectRedisOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  purpose: RedisPurpose;
  /** Give up on the first connection after this long. @defaultValue 5000 */
  connectTimeoutMs?: number;
}

/** `redis://:secret@host:6379` → `redis://:***@host:6379`: URLs are printed, passwords never. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

function optionsFor(purpose: RedisPurpose, connectTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    // The first connection fails at once (retryStrategy null): a missing Redis is one clear error, not a hang.
    retryStrategy: () => null,
    maxRetriesPerRequest: purpose === 'worker' ? null : 1,
    enableReadyCheck: true,
  };
}

/** After the first connection: keep reconnecting (Redis restarts must not kill a worker or a `logs -f`). */
function reconnectForever(times: number): number {
  return Math.min(200 * times, 3000);
}

/**
 * Open a Redis connection and prove it works (PING), or throw one {@link QueueError} naming the URL
 * (password redacted) and the reason, within `connectTimeoutMs`.
 */
export async function connectRedis(options: ConnectRedisOptions): Promise<Redis> {
  const timeout = options.connectTimeoutMs ?? 5000;
  const shown = redactRedisUrl(options.url);
  let redis: Redis;
  try {
    redis = new Redis(options.url, optionsFor(options.purpose, timeout));
  } catch (error) {
    throw new QueueError(`Invalid Redis URL ${shown}: ${(error as Error).message}`, { cause: error });
  }
  let lastError: Error | undefined;
  const onError = (error: Error) => {
    lastError = error;
    log.queue('redis %s: %s', shown, error.message);
  };
  redis.on('error', onError);
  try {
    await withTimeout(redis.connect(), timeout + 1000);
    await withTimeout(redis.ping(), timeout);
  } catch (error) {
    redis.disconnect();
    const reason = lastError?.message ?? (error as Error).message;
    throw new QueueError(`Cannot reach Redis at ${shown}: ${reason}`, {
      hint: 'check [redis] url / TSK_REDIS_URL, or unset it to use the embedded Redis',
      cause: lastError ?? error,
    });
  }
  redis.options.retryStrategy = reconnectForever;
  return redis;
}

/**
 * Drop a connection now, without waiting for Redis: every command still waiting fails at once and it never
 * reconnects. (ioredis's `disconnect()` between two reconnection attempts only cancels the next attempt and
 * leaves the waiting commands waiting for good; one more attempt, ended before it has a socket, ends the
 * connection and fails them.)
 */
export function dropConnection(redis: Redis): void {
  redis.disconnect();
  if (redis.status !== 'reconnecting') return;
  redis.connect().catch(() => undefined);
  redis.disconnect();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
