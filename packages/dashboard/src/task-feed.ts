import { taskViewJson, type TaskView, type WorkerInfo } from '@tsk/engine/queue';
import type { TaskEventJson, TaskJson, WorkerListJson } from './api-contract.js';

/** What the feed reads: the queue's list of tasks and of live workers. */
export interface FeedSource {
  list(): Promise<TaskView[]>;
  workers(): Promise<WorkerInfo[]>;
}

/** One subscriber of the feed (an open `/api/events` stream). */
export interface FeedListener {
  tasks(event: TaskEventJson): void;
  workers(event: WorkerListJson): void;
}

export interface TaskFeedOptions {
  /** @defaultValue 500 */
  pollMs?: number;
  /** Workers are sent again at least this often, so "last heartbeat" stays current. @defaultValue 5000 */
  workersEveryMs?: number;
  /** Told once when polling starts failing, and once when it recovers. */
  onError?: (message: string) => void;
}

/** A running task's duration changes on every poll; the page computes it, so it is no change. */
function taskKey(task: TaskJson): string {
  return JSON.stringify({ ...task, durationMs: task.status === 'RUNNING' ? null : task.durationMs });
}

function workersKey(workers: readonly WorkerInfo[]): string {
  return JSON.stringify(workers.map(({ sinceBeatMs: _since, lastBeat: _last, ...worker }) => worker));
}

interface Subscriber {
  listener: FeedListener;
  /** Needs a full event (it joined since the last poll). */
  fresh: boolean;
}

/**
 * The queue polled once for every open page (every `pollMs` while any is open, not at all otherwise), and
 * what changed since the last poll sent to each: a page that joins gets every task first. Many pages cost
 * one poll, not one each.
 */
export class TaskFeed {
  readonly #source: FeedSource;
  readonly #pollMs: number;
  readonly #workersEveryMs: number;
  readonly #onError: (message: string) => void;
  readonly #subscribers = new Set<Subscriber>();
  #tasks = new Map<string, string>();
  #workers: { key: string; sentAt: number; event: WorkerListJson } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  constructor(source: FeedSource, options: TaskFeedOptions = {}) {
    this.#source = source;
    this.#pollMs = options.pollMs ?? 500;
    this.#workersEveryMs = options.workersEveryMs ?? 5000;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Start receiving events (the first one full, at the next poll); returns the way to stop. */
  subscribe(listener: FeedListener): () => void {
    const subscriber: Subscriber = { listener, fresh: true };
    this.#subscribers.add(subscriber);
    if (this.#timer === undefined && this.#polling === undefined && !this.#closed) this.#schedule(0);
    return () => {
      this.#subscribers.delete(subscriber);
    };
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Stop polling; waits for a poll under way. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#subscribers.clear();
    await this.#polling;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#polling = this.#poll().finally(() => {
        this.#polling = undefined;
        // Nobody listening: stop, and forget what was sent (the next page gets a fresh full event anyway).
        if (this.#subscribers.size === 0) {
          this.#tasks.clear();
          this.#workers = undefined;
        } else if (!this.#closed) this.#schedule(this.#pollMs);
      });
    }, ms);
  }

  async #poll(): Promise<void> {
    let views: TaskView[];
    let workers: WorkerInfo[];
    try {
      [views, workers] = await Promise.all([this.#source.list(), this.#source.workers()]);
      if (this.#failing) this.#onError('the queue answers again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) this.#onError(`cannot read the queue: ${(error as Error).message}`);
      this.#failing = true;
      return;
    }
    const tasks = views.map(taskViewJson);
    const next = new Map(tasks.map((task) => [task.id, taskKey(task)]));
    const changed = tasks.filter((task) => this.#tasks.get(task.id) !== next.get(task.id));
    const removed = [...this.#tasks.keys()].filter((id) => !next.has(id));
    this.#tasks = next;
    const now = Date.now();
    const key = workersKey(workers);
    const workersChanged = this.#workers === undefined || this.#workers.key !== key || now - this.#workers.sentAt >= this.#workersEveryMs;
    if (workersChanged) this.#workers = { key, sentAt: now, event: { workers } };
    const workersEvent = this.#workers!.event;
    for (const subscriber of [...this.#subscribers]) {
      const { listener } = subscriber;
      if (subscriber.fresh) {
        subscriber.fresh = false;
        listener.tasks({ full: true, changed: tasks, removed: [] });
        listener.workers(workersEvent);
        continue;
      }
      if (changed.length > 0 || removed.length > 0) listener.tasks({ full: false, changed, removed });
      if (workersChanged) listener.workers(workersEvent);
    }
  }
}
