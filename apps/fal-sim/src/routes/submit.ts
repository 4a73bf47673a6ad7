import { randomUUID } from 'node:crypto';
import { modelForFalEndpoint } from '@fluxq/core';
import express, { type Router } from 'express';
import type { SimContext } from '../context.js';
import { lifecycleTtlMs } from '../file-store.js';
import { answerFault, baseUrlOf, requireKey } from '../http-helpers.js';
import { planRequest } from '../request-planner.js';
import type { SimRequest } from '../request-store.js';
import { failureRateFor } from '../sim-config.js';
import { requestUrls } from '../status-body.js';

/** Inputs may carry data URIs; fal's own limit is far above this. */
const MAX_INPUT_BYTES = '64mb';

/**
 * `POST /{owner}/{app}[/{path}][?fal_webhook=…]`: queue a request (fal.md §2.1-2.2). Input is
 * validated later, when a runner takes it, so a bad input still gets a request id and its
 * 422 shows up in the result, as on fal.
 */
export function submitRoutes(ctx: SimContext): Router {
  const router = express.Router();
  // Any content type is read as JSON: fal-js always sends JSON, and curl users forget the header.
  const json = express.json({ type: () => true, limit: MAX_INPUT_BYTES, strict: false });

  router.post('/:owner/:app{/*rest}', async (req, res, next) => {
    const params = req.params as { owner: string; app: string; rest?: string[] };
    const appPath = `${params.owner}/${params.app}`;
    const endpointId = params.rest?.length ? `${appPath}/${params.rest.join('/')}` : appPath;
    if (!requireKey(req, res)) return;
    if (await answerFault(ctx, 'submit', endpointId, res)) return;
    const found = modelForFalEndpoint(endpointId);
    if (!found) {
      res.status(404).json({ detail: `Application '${endpointId}' not found` });
      return;
    }
    json(req, res, (error?: unknown) => {
      if (error) return next(error);
      const startTimeout = Number(req.get('x-fal-request-timeout'));
      const webhook = req.query.fal_webhook;
      const request: SimRequest = {
        id: randomUUID(),
        endpointId,
        appPath,
        model: found.model,
        operation: found.operation,
        baseUrl: baseUrlOf(req, ctx.publicUrl),
        webhookUrl: typeof webhook === 'string' && webhook ? webhook : undefined,
        fileTtlMs: lifecycleTtlMs(req.get('x-fal-object-lifecycle-preference')),
        status: 'IN_QUEUE',
        ticket: ctx.nextTicket(),
        ready: false,
        submittedAt: ctx.now(),
        startedAt: undefined,
        completedAt: undefined,
        plan: planRequest(ctx.latency, ctx.random, {
          model: found.model,
          operation: found.operation,
          input: req.body ?? {},
          timeScale: ctx.config.timeScale,
          failureRate: failureRateFor(ctx.config, endpointId, found.model),
          fault: takeOutcomeFault(ctx, endpointId),
          // The header is in seconds and is not scaled: it is the caller's wall-clock deadline.
          startTimeoutMs: startTimeout > 0 ? startTimeout * 1000 : undefined,
        }),
        timers: new Set(),
        logs: [],
        result: undefined,
      };
      ctx.store.add(request);
      ctx.stats.countSubmit(endpointId);
      ctx.scheduler.enqueue(request);
      res.status(200).json({
        status: 'IN_QUEUE',
        request_id: request.id,
        queue_position: ctx.scheduler.queuePosition(request) ?? 0,
        ...requestUrls(request),
        logs: null,
        metrics: {},
      });
    });
  });
  return router;
}

function takeOutcomeFault(ctx: SimContext, endpointId: string) {
  const rule = ctx.faults.take('outcome', endpointId);
  if (rule) ctx.stats.counters.faultsFired += 1;
  return rule;
}
