import express, { type Request, type Response, type Router } from 'express';
import type { SimContext } from '../context.js';
import { answerFault, REQUEST_ID_HEADER, requireKey } from '../http-helpers.js';
import type { SimRequest } from '../request-store.js';
import { statusBody } from '../status-body.js';
import type { FaultTarget } from '../types.js';

type RequestParams = { owner: string; app: string; id: string };

/**
 * Status, status stream, result and cancel under `/{owner}/{app}/requests/{id}` (fal.md §2.1).
 * Only GET and PUT live here, so a POST to `fal-ai/flux-2` is always a submit.
 */
export function requestRoutes(ctx: SimContext): Router {
  const router = express.Router();

  /**
   * Shared preamble: auth, the fault for `on`, then the request, which must have been
   * submitted under this owner/app. Answers and returns undefined when the call is done.
   */
  async function lookup(req: Request, res: Response, on: FaultTarget, notFound: unknown) {
    const { owner, app, id } = req.params as RequestParams;
    const appPath = `${owner}/${app}`;
    if (!requireKey(req, res)) return undefined;
    const request = ctx.store.get(id);
    if (await answerFault(ctx, on, request?.endpointId ?? appPath, res)) return undefined;
    if (!request || request.appPath !== appPath) {
      res.status(404).json(notFound);
      return undefined;
    }
    res.set(REQUEST_ID_HEADER, request.id);
    return request;
  }

  const body = (request: SimRequest, req: Request) =>
    statusBody(request, ctx.scheduler.queuePosition(request), wantsLogs(req));

  router.get('/:owner/:app/requests/:id/status', async (req, res) => {
    ctx.stats.counters.statusCalls += 1;
    const request = await lookup(req, res, 'status', { detail: 'Request not found' });
    if (!request) return;
    res.status(request.status === 'COMPLETED' ? 200 : 202).json(body(request, req));
  });

  router.get('/:owner/:app/requests/:id/status/stream', async (req, res) => {
    ctx.stats.counters.statusCalls += 1;
    const request = await lookup(req, res, 'status', { detail: 'Request not found' });
    if (!request) return;
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    let last = '';
    const send = () => {
      const data = JSON.stringify(body(request, req));
      if (data !== last) res.write(`data: ${data}\n\n`);
      last = data;
      if (request.status === 'COMPLETED') stop();
    };
    const onChange = (changed: SimRequest) => {
      if (changed === request || request.status === 'IN_QUEUE') send();
    };
    const stop = () => {
      ctx.scheduler.events.off('change', onChange);
      ctx.scheduler.events.off('queue', send);
      res.end();
    };
    ctx.scheduler.events.on('change', onChange);
    ctx.scheduler.events.on('queue', send);
    res.on('close', stop);
    send();
  });

  router.get('/:owner/:app/requests/:id', async (req, res) => {
    ctx.stats.counters.resultCalls += 1;
    const request = await lookup(req, res, 'result', { detail: 'Request not found' });
    if (!request) return;
    const result = request.result;
    if (!result) {
      // What fal answers for an unfinished request is not documented; a 400 is not retried by fal-js.
      res.status(400).json({ detail: 'Request is still in progress' });
      return;
    }
    if (result.ok) {
      res.status(200).json(result.body);
      return;
    }
    res.status(result.error.status).set(result.error.headers).json(result.error.body);
  });

  router.put('/:owner/:app/requests/:id/cancel', async (req, res) => {
    const request = await lookup(req, res, 'cancel', { status: 'NOT_FOUND' });
    if (!request) return;
    const outcome = ctx.scheduler.cancel(request);
    if (outcome === 'ALREADY_COMPLETED') {
      res.status(400).json({ status: outcome });
      return;
    }
    ctx.stats.counters.cancels += 1;
    res.status(202).json({ status: outcome });
  });

  return router;
}

function wantsLogs(req: Request): boolean {
  const logs = req.query.logs;
  return logs === '1' || logs === 'true';
}
