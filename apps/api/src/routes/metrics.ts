import { bearerMatches } from '@fluxq/core';
import { type RequestHandler, Router } from 'express';
import { metricsSource } from '../cluster/cluster-metrics.js';
import type { ApiDeps } from '../deps.js';
import { createApiMetrics } from '../metrics/api-metrics.js';
import { adminOnly } from './admin.js';

/**
 * `GET /metrics`: Prometheus text from the API's registry (see metrics/api-metrics.ts).
 * Who may read it: the admin key, `Authorization: Bearer <METRICS_TOKEN>`, or in open mode
 * a loopback caller. Anyone else gets what a route that does not exist answers (401 without
 * a key, 404 with a tenant's), so it cannot be probed. `METRICS_ENABLED=false`: no route.
 *
 * `beforeAuth` goes before the API-key check (the token is not an API key), `afterAuth`
 * after it; `countRequests` first of all, so every answer is counted.
 */
export function metricsRouters(deps: ApiDeps): {
  countRequests: RequestHandler;
  beforeAuth: Router;
  afterAuth: Router;
} {
  const beforeAuth = Router();
  const afterAuth = Router();
  const settings = deps.settings.metrics ?? {};
  if (settings.enabled === false) {
    return { countRequests: (_req, _res, next) => next(), beforeAuth, afterAuth };
  }
  const { registry, countRequests } = createApiMetrics(deps);
  const metricsText = metricsSource(registry);
  const serve: RequestHandler = async (_req, res) => {
    const text = await metricsText();
    res.set({ 'content-type': registry.contentType, 'cache-control': 'no-store' }).send(text);
  };
  const { token } = settings;
  if (token !== undefined) {
    beforeAuth.get('/metrics', (req, res, next) => {
      if (!bearerMatches(req.get('authorization'), token)) return next();
      return serve(req, res, next);
    });
  }
  afterAuth.get('/metrics', adminOnly, serve);
  return { countRequests, beforeAuth, afterAuth };
}
