import express, { type Express } from 'express';
import type { ApiDeps } from './deps.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { requestContext } from './http/request-context.js';
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
 * routes, then the error envelope.
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
  app.use(healthRouter(deps));
  // The API reference and the dashboard's page and script need no key (the page asks for one).
  app.use(docsRouter());
  app.use(dashboardRouter());
  // File URLs carry their own signature, so they work without a key (e.g. in an <img>).
  app.use(filesRouter(deps));
  // fal's completion webhooks carry fal's signature, not an API key (always mounted: without
  // a valid signature it answers 401 and does nothing).
  app.use(falWebhookRouter(deps));
  // Prometheus's METRICS_TOKEN is not an API key: checked before the key is.
  app.use(metrics.beforeAuth);
  app.use(authenticate(deps.tenants));
  // Admin key only; everyone else gets the plain 404 of an unknown route.
  app.use(metrics.afterAuth);
  app.use(adminRouter(deps));
  app.use(bullBoardRouter(deps));
  app.use(rateLimit(deps));
  app.use(usageRouter(deps));
  app.use(statsRouter(deps));
  app.use(jobsRouter(deps));
  app.use(batchesRouter(deps));
  app.use(uploadsRouter(deps));
  app.use(modelsRouter());
  app.use(imagesRouter(deps));
  app.use(webhooksRouter(deps));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
