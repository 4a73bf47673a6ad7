import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { htmlPageCsp } from '../http/html-csp.js';

/** The dashboard's static files, shipped with the API package (`apps/api/dashboard`). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** `GET /`: the web dashboard (plain HTML, CSS and one script; no CDN, works offline). */
export function dashboardRouter(): Router {
  const router = Router();
  router.get('/', htmlPageCsp, (_req, res) => {
    res.set('cache-control', 'no-cache').sendFile('index.html', { root: DASHBOARD_DIR });
  });
  router.get('/dashboard/*file', htmlPageCsp, (req, res, next) => {
    const file = (req.params as { file: string[] }).file.join('/');
    if (!/^[a-z-]+\.(js|css)$/.test(file)) return next();
    res.set('cache-control', 'no-cache').sendFile(file, { root: DASHBOARD_DIR });
  });
  return router;
}
