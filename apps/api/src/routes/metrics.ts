import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { adminOnly, allTenantJobStats, QUEUE_STATES, queueCounts, STATS_SAMPLE_PER_TENANT } from './admin.js';

/** Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value escaped as the exposition format wants it (backslash, quote, newline). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(',')}}`;

/**
 * `GET /metrics` (admin key only; anyone else gets the 404 of a route that does not exist):
 * Prometheus gauges of
 * - `fluxq_queue_jobs{queue,state}`: BullMQ's job counts of the `images` and `webhooks`
 *   queues (`Queue.getJobCounts`); jobs with a priority wait in `prioritized`, not `waiting`;
 * - `fluxq_tenant_jobs_24h{tenant,status}`: each tenant's jobs created in the last 24 h by
 *   status, from the job store, counting at most its 1,000 most recent jobs;
 * - `fluxq_tenant_jobs_24h_total{tenant}`: how many it created in that window (exact).
 */
export function metricsRouter(deps: ApiDeps): Router {
  const router = Router();

  router.get('/metrics', adminOnly, async (_req, res) => {
    const [queues, tenants] = await Promise.all([queueCounts(deps), allTenantJobStats(deps)]);
    const lines: string[] = [
      '# HELP fluxq_queue_jobs Jobs in a BullMQ queue by state (jobs with a priority wait in "prioritized").',
      '# TYPE fluxq_queue_jobs gauge',
    ];
    for (const [queue, counts] of Object.entries(queues)) {
      for (const state of QUEUE_STATES)
        lines.push(`fluxq_queue_jobs${labels({ queue, state })} ${counts[state]}`);
    }
    lines.push(
      `# HELP fluxq_tenant_jobs_24h Jobs a tenant created in the last 24 h by status (its ${STATS_SAMPLE_PER_TENANT} most recent at most).`,
      '# TYPE fluxq_tenant_jobs_24h gauge',
    );
    for (const stats of tenants) {
      for (const [status, count] of Object.entries(stats.byStatus)) {
        lines.push(`fluxq_tenant_jobs_24h${labels({ tenant: stats.tenant, status })} ${count}`);
      }
    }
    lines.push(
      '# HELP fluxq_tenant_jobs_24h_total Jobs a tenant created in the last 24 h.',
      '# TYPE fluxq_tenant_jobs_24h_total gauge',
    );
    for (const stats of tenants) {
      lines.push(`fluxq_tenant_jobs_24h_total${labels({ tenant: stats.tenant })} ${stats.jobsInWindow}`);
    }
    res
      .set({ 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' })
      .send(`${lines.join('\n')}\n`);
  });

  return router;
}
