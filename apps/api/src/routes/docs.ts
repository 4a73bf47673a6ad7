import { createRequire } from 'node:module';
import { Router } from 'express';
import { htmlPageCsp } from '../http/html-csp.js';
import { buildOpenApiDocument } from '../openapi/document.js';

const require = createRequire(import.meta.url);
/** Scalar's standalone browser bundle, served from node_modules (no CDN). */
const SCALAR_BUNDLE = require.resolve('@scalar/api-reference/browser/standalone.js');

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fluxq API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body><div id="app"></div>
<script src="/docs/scalar.js"></script><script src="/docs/init.js"></script></body></html>`;

/**
 * Scalar's options for an offline page: the system fonts instead of its font CDN, and none of
 * its hosted extras (registry, proxy, telemetry), which would call out to scalar.com.
 */
const DOCS_INIT_JS = `Scalar.createApiReference('#app', ${JSON.stringify({
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: true,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
})});`;

/** `GET /openapi.json` (built once from the zod schemas) and `GET /docs`, Scalar's reference, offline. */
export function docsRouter(): Router {
  const router = Router();
  const document = buildOpenApiDocument();

  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', htmlPageCsp, (_req, res) => {
    res.type('html').send(DOCS_HTML);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT_JS);
  });
  router.get('/docs/scalar.js', (_req, res) => {
    res.set('cache-control', 'public, max-age=86400').sendFile(SCALAR_BUNDLE);
  });
  return router;
}
