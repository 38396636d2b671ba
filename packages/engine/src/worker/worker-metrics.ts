import { prometheusText, type MetricFamily } from '../common/prometheus-text.js';

/** What one worker reports on its `/metrics`. */
export interface WorkerMetricsFacts {
  worker: string;
  /** Tasks it runs at once. */
  concurrency: number;
  running: number;
  stopping: boolean;
  redisReady: boolean;
  /** The queue's BullMQ job counts; undefined when Redis did not answer. */
  jobs: Readonly<Record<'waiting' | 'prioritized' | 'delayed' | 'active', number>> | undefined;
}

/**
 * A worker's metrics as Prometheus text: its capacity and running tasks (the names the dashboard's
 * `/metrics` gives each worker, so one query covers both), whether it is stopping or has lost Redis, and the
 * queue's job counts as BullMQ holds them. Pure.
 */
export function workerMetricsText(facts: WorkerMetricsFacts): string {
  const worker = { worker: facts.worker };
  const families: MetricFamily[] = [
    { name: 'tsk_worker_capacity', help: 'Tasks the worker runs at once (its concurrency).', type: 'gauge', samples: [{ labels: worker, value: facts.concurrency }] },
    { name: 'tsk_worker_running', help: 'Tasks the worker runs now.', type: 'gauge', samples: [{ labels: worker, value: facts.running }] },
    { name: 'tsk_worker_stopping', help: '1 once the worker was told to stop (it takes no new task).', type: 'gauge', samples: [{ labels: worker, value: facts.stopping ? 1 : 0 }] },
    { name: 'tsk_worker_redis_up', help: '1 while the worker’s connection to Redis is ready.', type: 'gauge', samples: [{ labels: worker, value: facts.redisReady ? 1 : 0 }] },
  ];
  if (facts.jobs !== undefined) {
    const jobs = facts.jobs;
    families.push({
      name: 'tsk_queue_jobs',
      help: 'Jobs in the queue by BullMQ state (waiting and prioritized: queued; delayed: rate limited; active: held by a worker).',
      type: 'gauge',
      samples: (['waiting', 'prioritized', 'delayed', 'active'] as const).map((state) => ({ labels: { state }, value: jobs[state] })),
    });
  }
  return prometheusText(families);
}
