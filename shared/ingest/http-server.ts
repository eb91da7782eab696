import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { renderMetrics } from '../metrics.js';

export interface HealthReport {
  connected: boolean;
  url: string;
  last_event_age_ms: number | null;
  redis: 'ok' | 'error';
  cursor: number | null;
}

/** Healthy = a Jetstream connection is open and Redis answers. */
export function isHealthy(h: HealthReport): boolean {
  return h.connected && h.redis === 'ok';
}

export interface IngestHttpServer {
  port: number;
  close(): Promise<void>;
}

/** `/healthz` (200 healthy, 503 not, JSON HealthReport) and `/metrics` (Prometheus text). */
export async function startIngestHttp(opts: {
  port: number;
  host?: string;
  log: Logger;
  health(): Promise<HealthReport>;
  /** Called before each scrape so gauges such as lag are current. */
  beforeScrape?(): void;
}): Promise<IngestHttpServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'application/json', JSON.stringify({ error: { code: 'method_not_allowed', message: 'use GET' } }));
    if (path === '/healthz') {
      opts
        .health()
        .then((h) => send(isHealthy(h) ? 200 : 503, 'application/json', JSON.stringify(h)))
        .catch((err) => {
          opts.log.error({ err }, 'health check failed');
          send(503, 'application/json', JSON.stringify({ error: { code: 'internal_error', message: 'internal error' } }));
        });
      return;
    }
    if (path === '/metrics') {
      opts.beforeScrape?.();
      renderMetrics()
        .then((m) => send(200, m.contentType, m.body))
        .catch((err) => {
          opts.log.error({ err }, 'metrics failed');
          send(500, 'application/json', JSON.stringify({ error: { code: 'internal_error', message: 'internal error' } }));
        });
      return;
    }
    send(404, 'application/json', JSON.stringify({ error: { code: 'not_found', message: 'try /healthz or /metrics' } }));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
