import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../test-utils/prometheus-parser.js';
import { startHealthServer, type StartedHealthServer } from './health-server.js';
import { workerMetricsText } from './worker-metrics.js';

let server: StartedHealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the worker health server', () => {
  it('serves /metrics as Prometheus text beside /healthz', async () => {
    let running = 1;
    server = await startHealthServer({
      port: 0,
      report: () => ({ healthy: true, body: { worker: 'w1' } }),
      metrics: async () => workerMetricsText({ worker: 'w1', concurrency: 3, running, stopping: false, redisReady: true, jobs: { waiting: 4, prioritized: 0, delayed: 1, active: running } }),
    });
    const base = server.url.replace(/\/healthz$/, '');
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusText(await response.text());
    expect(families.get('tsk_worker_capacity')?.samples).toEqual([{ name: 'tsk_worker_capacity', labels: { worker: 'w1' }, value: 3 }]);
    expect(families.get('tsk_worker_running')?.samples[0]?.value).toBe(1);
    expect(families.get('tsk_worker_stopping')?.samples[0]?.value).toBe(0);
    expect(Object.fromEntries(families.get('tsk_queue_jobs')?.samples.map((sample) => [sample.labels.state, sample.value]) ?? [])).toEqual({ waiting: 4, prioritized: 0, delayed: 1, active: 1 });
    running = 2;
    expect(parsePrometheusText(await (await fetch(`${base}/metrics`)).text()).get('tsk_worker_running')?.samples[0]?.value).toBe(2);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('leaves the queue counts out when Redis is away, and has no /metrics when none is given', async () => {
    const text = workerMetricsText({ worker: 'w1', concurrency: 1, running: 0, stopping: true, redisReady: false, jobs: undefined });
    const families = parsePrometheusText(text);
    expect(families.has('tsk_queue_jobs')).toBe(false);
    expect(families.get('tsk_worker_redis_up')?.samples[0]?.value).toBe(0);
    expect(families.get('tsk_worker_stopping')?.samples[0]?.value).toBe(1);
    server = await startHealthServer({ port: 0, report: () => ({ healthy: true, body: {} }) });
    expect((await fetch(server.url.replace(/\/healthz$/, '/metrics'))).status).toBe(404);
  });
});
