import express, { type ErrorRequestHandler, type Express } from 'express';
import type { SimContext } from './context.js';
import { controlRoutes } from './routes/control.js';
import { requestRoutes } from './routes/requests.js';
import { storageRoutes } from './routes/storage.js';
import { submitRoutes } from './routes/submit.js';

/** The sim's HTTP surface. Order matters: the submit route matches any `POST /{owner}/{app}/…`. */
export function createApp(ctx: SimContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // Status polls must never be answered 304 from an ETag.
  app.set('etag', false);
  app.use(controlRoutes(ctx));
  app.use(storageRoutes(ctx));
  app.use(requestRoutes(ctx));
  app.use(submitRoutes(ctx));
  app.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found' });
  });
  app.use(errorHandler);
  return app;
}

/** Every error is JSON: fal-js only reads error bodies with a JSON content type. */
const errorHandler: ErrorRequestHandler = (error, _req, res, _next) => {
  const status = typeof error?.status === 'number' && error.status >= 400 ? error.status : 500;
  const detail =
    error?.type === 'entity.parse.failed'
      ? 'Request body is not valid JSON'
      : status === 413
        ? 'Request body is too large'
        : status >= 500
          ? 'Internal server error'
          : String(error?.message ?? 'Bad request');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).json({ detail });
};
