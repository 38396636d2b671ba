/** The BullMQ queue name; BullMQ's own keys are `<namespace>:queue:*`. */
export const QUEUE_NAME = 'queue';

/** @defaultValue namespace of every key tsk writes */
export const DEFAULT_NAMESPACE = 'tsk';

/**
 * Every Redis key and channel tsk uses besides BullMQ's, in one place. A namespace lets several tsk
 * installations (or tests) share one Redis.
 */
export class QueueKeys {
  constructor(readonly namespace: string = DEFAULT_NAMESPACE) {}

  /** Hash: the task record (spec, status, worker, timestamps, result). */
  task(id: string): string {
    return `${this.namespace}:task:${id}`;
  }
  /** Sorted set of every task id, scored by creation time. */
  get index(): string {
    return `${this.namespace}:index`;
  }
  /** Set of the ids of WAITING tasks (children whose parent has not ended). */
  get waiting(): string {
    return `${this.namespace}:waiting`;
  }
  /** Set of the ids of tasks a worker has claimed and not yet ended (what the reaper checks). */
  get running(): string {
    return `${this.namespace}:running`;
  }
  /** Set: the children of a task. */
  children(id: string): string {
    return `${this.namespace}:children:${id}`;
  }
  /** Stream: a task's log lines. */
  log(id: string): string {
    return `${this.namespace}:log:${id}`;
  }
  /** String with a TTL: a worker is alive while this exists; it holds what the worker reports (see `worker-registry.ts`). */
  heartbeat(worker: string): string {
    return `${this.namespace}:worker:${worker}`;
  }
  /**
   * Sorted set of queue worker names scored by when they were last alive. Only names in it are reaped
   * when their heartbeat is gone: inline `tsk run` sandboxes (named `cli-…`) never are.
   */
  get workers(): string {
    return `${this.namespace}:workers`;
  }
  /**
   * Sorted set of the labels workers have served, scored by when a live worker last had them: how `tsk list`
   * tells "no worker with label gpu seen lately" from "waiting for a busy one".
   */
  get labelsSeen(): string {
    return `${this.namespace}:labels`;
  }
  /** Pub/sub channel: ids of tasks to cancel, for the worker running them. */
  get cancelChannel(): string {
    return `${this.namespace}:cancel`;
  }
}
