import type { JobStatus } from '@fluxq/core';
import { type RequestHandler, Router } from 'express';
import type { ApiDeps } from '../deps.js';

/** The window `/admin/stats` (and the per-tenant metrics) look at. */
export const STATS_WINDOW_MS = 24 * 3_600 * 1_000;
/** At most this many of a tenant's most recent jobs are read for its counts. */
export const STATS_SAMPLE_PER_TENANT = 1_000;

const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'canceled'];

/** The states BullMQ counts; `prioritized` holds waiting jobs that carry a priority (all image jobs). */
const BULLMQ_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'waiting-children',
  'completed',
  'failed',
] as const;

/**
 * States reported per queue. `paused` stays reported (always 0) so the metrics and stats keep
 * their shape: BullMQ 6 has no paused list (a paused queue keeps its jobs in `waiting`), and
 * fluxq never pauses a queue.
 */
export const QUEUE_STATES = [...BULLMQ_STATES, 'paused'] as const;

export type QueueState = (typeof QUEUE_STATES)[number];

/**
 * Admin-only routes answer a caller without an admin key exactly as a route that does not
 * exist (the 404 `not_found` of the app's fallback), so they cannot be probed. In local open
 * mode they are open to loopback callers (`req.isOperator`).
 */
export const adminOnly: RequestHandler = (req, _res, next) => {
  next(req.isOperator ? undefined : 'route');
};

/** Job counts of each BullMQ queue the API knows, by state. */
export async function queueCounts(deps: ApiDeps): Promise<Record<string, Record<QueueState, number>>> {
  const queues = { images: deps.queue, webhooks: deps.webhooks.queue } as const;
  const entries = await Promise.all(
    Object.entries(queues).map(async ([name, queue]) => {
      const counts: Partial<Record<QueueState, number>> = await queue.getJobCounts(...BULLMQ_STATES);
      const byState = Object.fromEntries(QUEUE_STATES.map((state) => [state, counts[state] ?? 0]));
      return [name, byState as Record<QueueState, number>] as const;
    }),
  );
  return Object.fromEntries(entries);
}

export interface TenantJobStats {
  tenant: string;
  /** Jobs created in the window (exact, from the tenant index). */
  jobsInWindow: number;
  /** Jobs whose status was read: the most recent, at most `STATS_SAMPLE_PER_TENANT`. */
  sampled: number;
  /** Statuses of the sampled jobs; index entries whose job has expired are not counted. */
  byStatus: Record<JobStatus, number>;
}

/**
 * One tenant's jobs created since `sinceMs`, by status: the most recent
 * `STATS_SAMPLE_PER_TENANT` entries of its index (`{fluxq}:tenant-jobs:<tenant>`, scored by
 * creation ms), each job's status read in one pipelined round trip.
 */
export async function tenantJobStats(
  deps: ApiDeps,
  tenant: string,
  sinceMs: number,
): Promise<TenantJobStats> {
  const { count: jobsInWindow, ids } = await deps.jobIndex.recent(tenant, sinceMs, STATS_SAMPLE_PER_TENANT);
  const byStatus = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
  for (const status of await deps.store.statuses(ids)) {
    if (status !== undefined && status in byStatus) byStatus[status] += 1;
  }
  return { tenant, jobsInWindow, sampled: ids.length, byStatus };
}

/** Every configured tenant's stats over the last `STATS_WINDOW_MS`. */
export async function allTenantJobStats(deps: ApiDeps): Promise<TenantJobStats[]> {
  const sinceMs = deps.now() - STATS_WINDOW_MS;
  const tenants = deps.tenants.tenants().sort();
  return Promise.all(tenants.map((tenant) => tenantJobStats(deps, tenant, sinceMs)));
}

/**
 * `GET /admin/stats` (admin key only; 404 for anyone else): per tenant, the jobs created in
 * the last 24 h by status, read from the tenant's job index and the job hashes, sampled to
 * the most recent 1,000 jobs per tenant (the response says so, and whether it cut any);
 * plus the BullMQ queues' job counts by state.
 */
export function adminRouter(deps: ApiDeps): Router {
  const router = Router();

  router.get('/admin/stats', adminOnly, async (_req, res) => {
    const untilMs = deps.now();
    const [stats, queues] = await Promise.all([allTenantJobStats(deps), queueCounts(deps)]);
    res.set('cache-control', 'no-store').json({
      object: 'admin_stats',
      window: {
        since: Math.floor((untilMs - STATS_WINDOW_MS) / 1000),
        until: Math.floor(untilMs / 1000),
        hours: STATS_WINDOW_MS / 3_600_000,
      },
      sampling: {
        max_jobs_per_tenant: STATS_SAMPLE_PER_TENANT,
        note: `by_status counts at most the ${STATS_SAMPLE_PER_TENANT} most recent jobs of each tenant created in the window; jobs_in_window is exact`,
      },
      tenants: stats.map((s) => ({
        tenant: s.tenant,
        jobs_in_window: s.jobsInWindow,
        sampled_jobs: s.sampled,
        truncated: s.jobsInWindow > s.sampled,
        by_status: s.byStatus,
      })),
      queues,
    });
  });

  return router;
}
