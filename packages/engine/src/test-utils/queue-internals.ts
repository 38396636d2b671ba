import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_NAMESPACE, QUEUE_NAME, QueueKeys } from '../queue/queue-keys.js';
import { TaskStore } from '../queue/task-store.js';

/**
 * The one door from tests into the queue's internals, for tests that act on Redis as an attacker or an
 * observer would: write raw jobs and records, read BullMQ's job states, flag a cancel without removing
 * the job. Production code reaches the queue only through `queue/index.js` (`queue-boundary.test.ts`).
 */
export { QueueKeys };

/** BullMQ's own handle on tsk's queue in `namespace`, as anyone with access to Redis can make one. Close it. */
export function rawJobQueue(connection: Redis, namespace: string = DEFAULT_NAMESPACE): Queue {
  return new Queue(QUEUE_NAME, { connection, prefix: namespace });
}

/** The task records in `namespace`, read and written as the queue itself does. */
export function rawTaskStore(connection: Redis, namespace: string = DEFAULT_NAMESPACE): TaskStore {
  return new TaskStore(connection, new QueueKeys(namespace));
}
