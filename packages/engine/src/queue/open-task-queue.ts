import type { Redis } from 'ioredis';
import { ensureEmbeddedRedis, type EmbeddedRedisOptions } from './embedded-redis.js';
import { connectRedis, redactRedisUrl, type RedisPurpose } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';

export interface OpenTaskQueueOptions {
  /** The configured Redis (`[redis] url` / TSK_REDIS_URL); undefined means the embedded one. */
  redisUrl: string | undefined;
  purpose: RedisPurpose;
  /** Builds the embedded Redis's options; only called (and Docker only needed) when there is no URL. */
  embedded: () => Promise<EmbeddedRedisOptions>;
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

/** Connect to the configured Redis, or start and connect to the embedded one. */
export async function openTaskQueue(options: OpenTaskQueueOptions): Promise<OpenTaskQueue> {
  const url = options.redisUrl ?? (await ensureEmbeddedRedis(await options.embedded()));
  const redis = await connectRedis({ url, purpose: options.purpose });
  const queue = new TaskQueue({ connection: redis, namespace: options.namespace });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await queue.close();
      await redis.quit().catch(() => redis.disconnect());
    })();
    return closing;
  };
  return { queue, url, shownUrl: redactRedisUrl(url), close, [Symbol.asyncDispose]: close };
}
