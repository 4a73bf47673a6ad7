import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { htmlPageCsp } from '../http/html-csp.js';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board at `/admin/queues` over the `images` and `webhooks` queues, behind the same
 * admin check as `/admin/stats`: anyone else gets the plain 404 of an unknown route. A
 * BullMQ job's id is the fluxq job id (`job_…`) or delivery id, so the board shows it.
 */
export function bullBoardRouter(deps: ApiDeps): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [
      new BullMQAdapter(deps.queue, { readOnlyMode: false }),
      new BullMQAdapter(deps.webhooks.queue, { readOnlyMode: false }),
    ],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'fluxq queues' } },
  });
  const router = Router();
  // 'router' leaves this router, so a non-admin falls through to the app's 404.
  router.use(
    BULL_BOARD_PATH,
    (req, _res, next) => next(req.isOperator ? undefined : 'router'),
    htmlPageCsp,
    adapter.getRouter(),
  );
  return router;
}
