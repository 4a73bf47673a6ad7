import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerMatches } from '@fluxq/core';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host: string;
  /** Ready to take jobs: workers running and Redis answering. A throw counts as not ready. */
  isReady: () => Promise<boolean>;
  /** Serves `GET /metrics` (Prometheus text) from this registry; unset: 404. */
  metrics?: { contentType: string; metrics(): Promise<string> };
  /** When set, `/metrics` wants `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string;
}

/**
 * `GET /healthz` (the process serves: liveness) and `GET /readyz` (it takes jobs: 200, else 503)
 * for orchestrators' probes and compose healthchecks. A worker has no HTTP API of its own, so
 * this is the only way a probe can ask it. `GET /metrics` is Prometheus's scrape of this worker.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { status: 'method_not_allowed' });
    if (path === '/healthz') return answer(200, { status: 'ok' });
    if (path === '/readyz') {
      options.isReady().then(
        (ready) => answer(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' }),
        () => answer(503, { status: 'not_ready' }),
      );
      return;
    }
    if (path === '/metrics' && options.metrics) {
      if (
        options.metricsToken !== undefined &&
        !bearerMatches(req.headers.authorization, options.metricsToken)
      ) {
        res.setHeader('www-authenticate', 'Bearer');
        return answer(401, { status: 'unauthorized' });
      }
      const registry = options.metrics;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        () => answer(503, { status: 'metrics_unavailable' }),
      );
      return;
    }
    answer(404, { status: 'not_found' });
  });
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
