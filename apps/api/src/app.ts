import express, { type Express } from 'express';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { requestContext } from './http/request-context.js';
import { routedOnly } from './http/routed-only.js';
import { refuseEncodedBodies, securityHeaders } from './http/security.js';
import { adminRouter } from './routes/admin.js';
import { batchesRouter } from './routes/batches.js';
import { bullBoardRouter } from './routes/bull-board.js';
import { dashboardRouter } from './routes/dashboard.js';
import { docsRouter } from './routes/docs.js';
import { falWebhookRouter } from './routes/fal-webhook.js';
import { filesRouter } from './routes/files.js';
import { healthRouter } from './routes/health.js';
import { imagesRouter } from './routes/images.js';
import { jobsRouter } from './routes/jobs.js';
import { metricsRouters } from './routes/metrics.js';
import { modelsRouter } from './routes/models.js';
import { statsRouter } from './routes/stats.js';
import { uploadsRouter } from './routes/uploads.js';
import { usageRouter } from './routes/usage.js';
import { webhooksRouter } from './routes/webhooks.js';
import { authenticate } from './tenants/authenticate.js';
import { rateLimit } from './tenants/limits/rate-limit.js';

/**
 * The express app: health, file URLs and fal's webhook first (no API key), then authenticated
 * routes, then the error envelope. Each router is entered only by requests it has a route for
 * (`routedOnly`), so a request does not wait a loop turn at every router before its own.
 */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  const metrics = metricsRouters(deps);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Before anything that can fail: every answer carries the request id and the headers.
  app.use(requestContext(deps.logger));
  app.use(securityHeaders());
  app.use(metrics.countRequests);
  app.use(refuseEncodedBodies);
  app.use(routedOnly(healthRouter(deps)));
  // The API reference and the dashboard's page and script need no key (the page asks for one).
  app.use(routedOnly(docsRouter()));
  app.use(routedOnly(dashboardRouter()));
  // File URLs carry their own signature, so they work without a key (e.g. in an <img>).
  app.use(routedOnly(filesRouter(deps)));
  // fal's completion webhooks carry fal's signature, not an API key (always mounted: without
  // a valid signature it answers 401 and does nothing).
  app.use(routedOnly(falWebhookRouter(deps)));
  // Prometheus's METRICS_TOKEN is not an API key: checked before the key is.
  app.use(routedOnly(metrics.beforeAuth));
  app.use(authenticate(deps.tenants));
  // Admin key only; everyone else gets the plain 404 of an unknown route.
  app.use(routedOnly(metrics.afterAuth));
  app.use(routedOnly(adminRouter(deps)));
  app.use(routedOnly(bullBoardRouter(deps)));
  app.use(rateLimit(deps));
  app.use(routedOnly(usageRouter(deps)));
  app.use(routedOnly(statsRouter(deps)));
  app.use(routedOnly(jobsRouter(deps)));
  app.use(routedOnly(batchesRouter(deps)));
  app.use(routedOnly(uploadsRouter(deps)));
  app.use(routedOnly(modelsRouter()));
  app.use(routedOnly(imagesRouter(deps)));
  app.use(routedOnly(webhooksRouter(deps)));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
