import type { Redis } from 'ioredis';
import { settleWithin } from '../common/settle-within.js';
import { log as debug } from '../logging/index.js';
import { ensureEmbeddedRedis, type EmbeddedRedisOptions } from './embedded-redis.js';
import type { EmbeddedRedisRecord } from './embedded-redis-record.js';
import { connectRedis, dropConnection, redactRedisUrl, type RedisPurpose } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';

export interface OpenTaskQueueOptions {
  /** The configured Redis (`[redis] url` / TSK_REDIS_URL); undefined means the embedded one. */
  redisUrl: string | undefined;
  purpose: RedisPurpose;
  /** Builds the embedded Redis's options; only called (and Docker only needed) when there is no URL. */
  embedded: () => Promise<EmbeddedRedisOptions>;
  /** Where the embedded Redis was last found: tried before `embedded` (Docker), updated after it. */
  recorded?: EmbeddedRedisRecord;
  /** @defaultValue 'tsk' */
  namespace?: string;
}

/** An open queue (its connection stays inside it). `close()` closes both and is safe to call twice. */
export interface OpenTaskQueue extends AsyncDisposable {
  queue: TaskQueue;
  /** The Redis URL with any password redacted, for messages. */
  shownUrl: string;
  /** The full URL (a worker's BullMQ connections are made from it). */
  url: string;
  close(): Promise<void>;
}

/** How long closing waits for Redis to answer before it drops the connection. */
const CLOSE_WAIT_MS = 2000;

/** Connect to the configured Redis, or start and connect to the embedded one. */
export async function openTaskQueue(options: OpenTaskQueueOptions): Promise<OpenTaskQueue> {
  const { url, redis } = await connect(options);
  const queue = new TaskQueue({ connection: redis, namespace: options.namespace });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Both wait for Redis; one that has gone away never answers, and a closing process must not hang on it.
      await settleWithin(queue.close(), CLOSE_WAIT_MS);
      if (redis.status === 'ready') await settleWithin(redis.quit(), CLOSE_WAIT_MS);
      dropConnection(redis);
    })();
    return closing;
  };
  return { queue, url, shownUrl: redactRedisUrl(url), close, [Symbol.asyncDispose]: close };
}

/** How long the recorded embedded Redis gets to answer before Docker is asked (it is on loopback). */
const RECORDED_TIMEOUT_MS = 1000;

async function connect(options: OpenTaskQueueOptions): Promise<{ url: string; redis: Redis }> {
  const { purpose } = options;
  if (options.redisUrl !== undefined) return { url: options.redisUrl, redis: await connectRedis({ url: options.redisUrl, purpose }) };
  const known = await options.recorded?.read();
  if (known !== undefined) {
    try {
      return { url: known, redis: await connectRedis({ url: known, purpose, connectTimeoutMs: RECORDED_TIMEOUT_MS }) };
    } catch (error) {
      // Stopped, restarted on another port, recreated with another password: Docker knows.
      debug.queue('the recorded embedded Redis does not answer (%s); asking Docker', (error as Error).message);
    }
  }
  const url = await ensureEmbeddedRedis(await options.embedded());
  const redis = await connectRedis({ url, purpose });
  await options.recorded?.write(url);
  return { url, redis };
}
