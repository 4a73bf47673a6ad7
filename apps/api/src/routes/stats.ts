import { FluxqError, unixSeconds } from '@fluxq/core';
import { DEFAULT_STATS_WINDOW, isStatsWindow, STATS_WINDOWS, type StatsWindow } from '@fluxq/resilience';
import { type Request, Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { TENANT_NAME } from '../tenants/tenant-registry.js';

/** The query of `GET /v1/stats`, checked: every problem is a 400 naming the parameter. */
interface StatsParams {
  window: StatsWindow;
  /** Whose delivered figures: one tenant, or null for every tenant (admin key only). */
  tenant: string | null;
  histogram: boolean;
}

function invalid(param: string, message: string): never {
  throw new FluxqError('invalid_parameter', message, { param });
}

function single(req: Request, param: string): string | undefined {
  const value = req.query[param];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid(param, `${param} may be given once`);
  return value;
}

export function parseStatsQuery(req: Request): StatsParams {
  const window = single(req, 'window') ?? DEFAULT_STATS_WINDOW;
  if (!isStatsWindow(window)) invalid('window', `window must be one of ${STATS_WINDOWS.join(', ')}`);
  const histogram = single(req, 'histogram');
  if (histogram !== undefined && !['true', 'false', '1', '0'].includes(histogram))
    invalid('histogram', 'histogram must be true or false');
  const tenant = single(req, 'tenant');
  if (tenant !== undefined) {
    if (!req.isAdmin) invalid('tenant', 'only the admin key may choose a tenant; others see their own');
    if (!TENANT_NAME.test(tenant)) invalid('tenant', 'tenant must be a tenant name');
  }
  return {
    window,
    // The admin key sees every tenant unless it names one; anyone else sees their own.
    tenant: req.isAdmin ? (tenant ?? null) : req.tenant,
    histogram: histogram === 'true' || histogram === '1',
  };
}

/**
 * `GET /v1/stats?window=1h|24h|7d|30d`: the provider table, per model and operation, from
 * the histograms the workers keep (packages/resilience/src/provider-stats.ts). The `provider`
 * columns are fal's and the same for everyone; `delivered` is the caller's tenant's (every
 * tenant's for the admin key). `histogram=true` adds each latency figure's buckets.
 */
export function statsRouter(deps: ApiDeps): Router {
  const router = Router();
  const stats = deps.providerStats;

  router.get('/v1/stats', async (req, res) => {
    const params = parseStatsQuery(req);
    const table = await stats.read(params);
    res.json({
      object: 'list',
      window: table.window,
      since: unixSeconds(table.sinceMs),
      tenant: params.tenant,
      data: table.rows.map((row) => ({ object: 'provider_stats', window: table.window, ...row })),
    });
  });

  return router;
}
