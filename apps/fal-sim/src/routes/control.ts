import express, { type Router } from 'express';
import type { SimContext } from '../context.js';
import { faultRulesSchema } from '../faults.js';
import { applyConfigPatch, simConfigPatchSchema } from '../sim-config.js';
import type { FaultRule } from '../types.js';

/**
 * Test controls under `/__sim`, for tests driving a sim in another process, plus `/health`
 * and the JWKS that verifies webhook signatures. None of these need a key.
 */
export function controlRoutes(ctx: SimContext): Router {
  const router = express.Router();
  const json = express.json({ type: () => true });

  router.get('/health', (_req, res) => {
    res.json({ ok: true });
  });

  router.get('/.well-known/jwks.json', (_req, res) => {
    res.json(ctx.webhooks.jwks());
  });

  router.get('/__sim/stats', (_req, res) => {
    res.json(ctx.stats.snapshot(ctx.scheduler.counts()));
  });

  router.get('/__sim/faults', (_req, res) => {
    res.json({ rules: ctx.faults.list() });
  });

  router.post('/__sim/faults', json, (req, res) => {
    const parsed = faultRulesSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return;
    }
    ctx.faults.set(parsed.data as FaultRule[]);
    res.json({ rules: ctx.faults.list() });
  });

  router.delete('/__sim/faults', (_req, res) => {
    ctx.faults.clear();
    res.json({ rules: [] });
  });

  router.post('/__sim/reset', (_req, res) => {
    ctx.reset();
    res.json({ ok: true });
  });

  router.get('/__sim/config', (_req, res) => {
    res.json(ctx.config);
  });

  router.post('/__sim/config', json, (req, res) => {
    const parsed = simConfigPatchSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return;
    }
    applyConfigPatch(ctx.config, parsed.data);
    ctx.scheduler.pump();
    res.json(ctx.config);
  });

  return router;
}
