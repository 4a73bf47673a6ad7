import { PRIORITIES, type Priority } from '@fluxq/core';
import { PRIORITY_VALUES } from '@fluxq/queue';
import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ApiDeps } from '../deps.js';
import { allTenantJobStats, QUEUE_STATES, queueCounts, STATS_SAMPLE_PER_TENANT } from '../routes/admin.js';

export interface ApiMetrics {
  registry: Registry;
  /** Counts every answer by method, route pattern and status (never the raw path: ids are in it). */
  countRequests: RequestHandler;
}

/**
 * The API's registry (one per app, so tests can run several in one process): Node's default
 * process metrics, answers by route, and queue depths read from Redis at each scrape (a few
 * counts, no scan). Per-tenant series only with METRICS_TENANT_LABELS. With several API
 * processes (API_PROCESSES) a scrape sums the counters over all of them; the gauges read shared
 * Redis state, so they take one process's reading (`aggregator: 'first'`), not the sum.
 */
export function createApiMetrics(deps: ApiDeps): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new Counter({
    name: 'fluxq_api_requests_total',
    help: 'Answers of the API by method, matched route pattern (`unmatched` for none) and status code.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  new Gauge({
    name: 'fluxq_queue_jobs',
    help: 'Jobs in a BullMQ queue by state (jobs with a priority wait in "prioritized").',
    labelNames: ['queue', 'state'],
    registers,
    aggregator: 'first',
    async collect() {
      for (const [queue, counts] of Object.entries(await queueCounts(deps))) {
        for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state]);
      }
    },
  });
  new Gauge({
    name: 'fluxq_queue_depth',
    help: "Image jobs not yet running by priority class: waiting in the scheduler's line for a fal slot (fair) or granted/prefetched and waiting in BullMQ (prioritized).",
    labelNames: ['priority', 'state'],
    registers,
    aggregator: 'first',
    async collect() {
      const [fair, bullmq] = await Promise.all([
        deps.fair.waitingByClass(),
        deps.queue.getCountsPerPriority(PRIORITIES.map((p) => PRIORITY_VALUES[p])),
      ]);
      for (const priority of PRIORITIES as readonly Priority[]) {
        this.set({ priority, state: 'fair' }, fair[priority]);
        this.set({ priority, state: 'prioritized' }, bullmq[PRIORITY_VALUES[priority]] ?? 0);
      }
    },
  });
  if (deps.settings.metrics?.tenantLabels) {
    // Both families come from one read per scrape (the scrape collects them one after another).
    let read: { atMs: number; stats: ReturnType<typeof allTenantJobStats> } | undefined;
    const tenantStats = () => {
      if (!read || deps.now() - read.atMs > 1_000)
        read = { atMs: deps.now(), stats: allTenantJobStats(deps) };
      return read.stats;
    };
    new Gauge({
      name: 'fluxq_tenant_jobs_24h',
      help: `Jobs a tenant created in the last 24 h by status (its ${STATS_SAMPLE_PER_TENANT} most recent at most).`,
      labelNames: ['tenant', 'status'],
      registers,
      aggregator: 'first',
      async collect() {
        for (const stats of await tenantStats()) {
          for (const [status, count] of Object.entries(stats.byStatus)) {
            this.set({ tenant: stats.tenant, status }, count);
          }
        }
      },
    });
    new Gauge({
      name: 'fluxq_tenant_jobs_24h_total',
      help: 'Jobs a tenant created in the last 24 h.',
      labelNames: ['tenant'],
      registers,
      aggregator: 'first',
      async collect() {
        for (const stats of await tenantStats()) this.set({ tenant: stats.tenant }, stats.jobsInWindow);
      },
    });
  }
  const countRequests: RequestHandler = (req, res, next) => {
    res.once('finish', () => {
      const route = req.route?.path;
      requests.inc({
        method: req.method,
        route: typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  };
  return { registry, countRequests };
}
