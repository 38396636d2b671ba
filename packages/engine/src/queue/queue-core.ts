import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { log as debug } from '../logging/index.js';
import { bullConnection } from './bull-connection.js';
import { bullmq } from './bullmq.js';
import { LostWorkers } from './lost-workers.js';
import { DEFAULT_NAMESPACE, QUEUE_NAME, QueueKeys } from './queue-keys.js';
import { TaskChain } from './task-chain.js';
import { TaskStore } from './task-store.js';
import { WorkerRegistry } from './worker-registry.js';

/**
 * The parts one queue is made of: the Redis connection, the key names, the task records (`TaskStore`),
 * chains, the worker registry, the "worker lost" rule and the BullMQ queue. Internal to `queue/`: commands
 * see it through {@link TaskQueue}, workers through {@link WorkerQueue}, and neither can reach these parts.
 */
export class QueueCore {
  readonly keys: QueueKeys;
  readonly store: TaskStore;
  readonly chain: TaskChain;
  readonly registry: WorkerRegistry;
  readonly lost: LostWorkers;
  #bull: Queue | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly redis: Redis,
    namespace: string = DEFAULT_NAMESPACE,
  ) {
    this.keys = new QueueKeys(namespace);
    this.store = new TaskStore(redis, this.keys);
    this.registry = new WorkerRegistry(redis, this.keys);
    this.chain = new TaskChain(this.store, { enqueue: (id, name, job) => this.enqueue(id, name, job) });
    this.lost = new LostWorkers(this);
  }

  /** The BullMQ queue, made (and BullMQ loaded) on first use: see `bullmq.ts`. */
  get bull(): Queue {
    this.#bull ??= new (bullmq().Queue)(QUEUE_NAME, {
      connection: bullConnection(this.redis),
      prefix: this.keys.namespace,
      // One attempt: a task is never run twice behind the user's back. Jobs are kept until the task is deleted.
      defaultJobOptions: { attempts: 1, removeOnComplete: false, removeOnFail: false },
    });
    return this.#bull;
  }

  /** Put a runnable task's job into BullMQ (job id = task id; `name` shows in BullMQ's own tools). */
  async enqueue(id: string, name: string, job: unknown): Promise<void> {
    await this.bull.add(name, job, { jobId: id });
  }

  /** Close the BullMQ queue (not the connection, which the caller owns). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (this.#bull?.close() ?? Promise.resolve()).catch((error: unknown) => debug.queue('queue close: %s', (error as Error).message));
    return this.closing;
  }
}
