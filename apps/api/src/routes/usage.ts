import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { spentToday, utcDay } from '../tenants/limits/spend-cap.js';

/**
 * `GET /v1/usage`: the caller's tenant against its limits: spend today (UTC), jobs queued
 * and running, and the request rate. A null limit is no limit.
 */
export function usageRouter(deps: ApiDeps): Router {
  const router = Router();

  router.get('/v1/usage', async (req, res) => {
    const tenant = req.tenant;
    const limits = deps.tenants.limitsOf(tenant);
    const nowMs = deps.now();
    const [spent, queued, running] = await Promise.all([
      spentToday(deps, tenant),
      deps.queued.count(tenant),
      // The tenant's running-job leases, granted by the scheduler with a job's fal slot.
      deps.scheduler.running(tenant),
    ]);
    res.json({
      object: 'usage',
      date: utcDay(nowMs),
      spent_usd: spent,
      daily_limit_usd: limits.dailySpendUsd,
      queued_jobs: queued,
      max_queued_jobs: limits.maxQueuedJobs,
      running_jobs: running,
      max_running_jobs: limits.maxRunningJobs,
      requests_per_minute: limits.requestsPerMinute,
    });
  });

  return router;
}
