import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from '../common/prometheus-text.js';

/** What `/healthz` reports. */
export interface HealthReport {
  healthy: boolean;
  body: Record<string, unknown>;
}

export interface HealthServerOptions {
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  report: () => HealthReport;
  /** `GET /metrics`: Prometheus text; undefined for none (404). */
  metrics?: () => Promise<string>;
}

/** A started health endpoint; `close()` is safe to call twice. */
export interface StartedHealthServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /healthz`: 200 with a JSON body while the worker is healthy, 503 when it is not (Redis away,
 * stopping). `GET /metrics`: the worker's Prometheus metrics (see `worker-metrics.ts`). Anything else is
 * 404. For container orchestrators, Prometheus and `curl` checks.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<StartedHealthServer> {
  const server: Server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method === 'GET' && path === '/metrics' && options.metrics !== undefined) {
      options.metrics().then(
        (text) => response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    if (request.method !== 'GET' || path !== '/healthz') {
      response.writeHead(404).end();
      return;
    }
    const report = options.report();
    response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify({ status: report.healthy ? 'ok' : 'unhealthy', ...report.body })}\n`);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`,
    close: () => {
      closing ??= new Promise((resolve) => server.close(() => resolve()));
      return closing;
    },
  };
}
