import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: Redis answers too). */
export function healthRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await deps.ping();
      res.json({ status: 'ok', redis: 'ok' });
    } catch {
      res.status(503).set('Retry-After', '5').json({ status: 'unavailable', redis: 'unreachable' });
    }
  });
  return router;
}
