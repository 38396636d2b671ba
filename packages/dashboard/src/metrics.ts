import { queueMetrics, type QueueMetrics, type TaskQueue } from '@tsk/engine/queue';
import { Router } from 'express';
import { Gauge, Histogram, Registry } from 'prom-client';

/** What `/metrics` reads: the same two views `tsk list` and `tsk workers` print. */
export interface MetricsDeps {
  queue: Pick<TaskQueue, 'list' | 'workers'>;
}

/** Seconds: a task runs minutes to hours. */
const DURATION_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
/** Seconds: a task waits for a free worker from nothing to hours. */
const WAIT_BUCKETS = [1, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400];

/**
 * The dashboard's metrics in their own registry (never prom-client's global one: two dashboards in one
 * process, or a library's metrics, must not mix). Every scrape computes them again from the queue's views
 * (`queueMetrics`), so they say what `tsk list` says at that moment; the histograms count the tasks the
 * queue holds now, so they drop when tasks are deleted (Prometheus reads that as a counter reset).
 */
export class DashboardMetrics {
  readonly registry = new Registry();
  readonly #tasks: Gauge<'state' | 'project' | 'agent'>;
  readonly #cost: Gauge<'state' | 'project' | 'agent'>;
  readonly #tokens: Gauge<'direction' | 'state' | 'project' | 'agent'>;
  readonly #duration: Histogram<'state'>;
  readonly #wait: Histogram;
  readonly #workers: Gauge<'state'>;
  readonly #capacity: Gauge;
  readonly #running: Gauge;
  readonly #workerCapacity: Gauge<'worker'>;
  readonly #workerRunning: Gauge<'worker'>;
  /** Scrapes one after another: each one resets and fills the same metrics. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: MetricsDeps) {
    const registers = [this.registry];
    this.#tasks = new Gauge({ name: 'tsk_tasks', help: 'Tasks in the queue by state, project and agent (as `tsk list` counts them).', labelNames: ['state', 'project', 'agent'], registers });
    this.#cost = new Gauge({ name: 'tsk_tasks_cost_usd', help: 'What the agents of these tasks reported spending, in US dollars.', labelNames: ['state', 'project', 'agent'], registers });
    this.#tokens = new Gauge({ name: 'tsk_tasks_tokens', help: 'Tokens the agents of these tasks reported (direction: input or output).', labelNames: ['direction', 'state', 'project', 'agent'], registers });
    this.#duration = new Histogram({ name: 'tsk_task_duration_seconds', help: 'How long ended tasks ran (started to finished), by final state.', labelNames: ['state'], buckets: DURATION_BUCKETS, registers });
    this.#wait = new Histogram({ name: 'tsk_task_queue_wait_seconds', help: 'How long started tasks waited in the queue (created to started).', buckets: WAIT_BUCKETS, registers });
    this.#workers = new Gauge({ name: 'tsk_workers', help: 'Live workers by state (running, or stopping: it takes no new task).', labelNames: ['state'], registers });
    this.#capacity = new Gauge({ name: 'tsk_workers_capacity', help: 'Tasks the live workers run at once, together (the sum of their concurrency).', registers });
    this.#running = new Gauge({ name: 'tsk_workers_running', help: 'Tasks the live workers run now, together.', registers });
    this.#workerCapacity = new Gauge({ name: 'tsk_worker_capacity', help: 'Tasks the worker runs at once (its concurrency).', labelNames: ['worker'], registers });
    this.#workerRunning = new Gauge({ name: 'tsk_worker_running', help: 'Tasks the worker runs now.', labelNames: ['worker'], registers });
  }

  /** The exposition text as of now. */
  scrape(): Promise<string> {
    const next = this.#last.then(
      () => this.#scrape(),
      () => this.#scrape(),
    );
    this.#last = next;
    return next;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async #scrape(): Promise<string> {
    const [tasks, workers] = await Promise.all([this.deps.queue.list(), this.deps.queue.workers()]);
    this.#fill(queueMetrics(tasks, workers));
    return this.registry.metrics();
  }

  #fill(metrics: QueueMetrics): void {
    this.registry.resetMetrics();
    for (const group of metrics.tasks) {
      const labels = { state: group.state, project: group.project, agent: group.agent };
      this.#tasks.set(labels, group.count);
      if (group.count === 0) continue;
      this.#cost.set(labels, group.costUsd);
      this.#tokens.set({ ...labels, direction: 'input' }, group.inputTokens);
      this.#tokens.set({ ...labels, direction: 'output' }, group.outputTokens);
    }
    for (const { state, seconds } of metrics.durations) this.#duration.observe({ state }, seconds);
    for (const seconds of metrics.queueWaits) this.#wait.observe(seconds);
    this.#workers.set({ state: 'running' }, metrics.workerCount - metrics.stoppingCount);
    this.#workers.set({ state: 'stopping' }, metrics.stoppingCount);
    this.#capacity.set(metrics.capacity);
    this.#running.set(metrics.running);
    for (const worker of metrics.workers) {
      this.#workerCapacity.set({ worker: worker.name }, worker.capacity);
      this.#workerRunning.set({ worker: worker.name }, worker.running);
    }
  }
}

/** `GET /metrics`: Prometheus text (the dashboard's security applies: loopback, or the token as a bearer). */
export function metricsRouter(deps: MetricsDeps): Router {
  const metrics = new DashboardMetrics(deps);
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const text = await metrics.scrape();
    // Not res.type()/send(): express would rewrite the type's parameters (charset first), which some
    // scrapers compare as text.
    res.status(200).setHeader('Content-Type', metrics.contentType);
    res.end(text);
  });
  return router;
}
