import type { RequestHandler } from 'express';

/**
 * The API's default CSP allows nothing (it answers JSON). The HTML pages it serves (the
 * dashboard, /docs, Bull Board) load their own scripts and styles from this origin only: no
 * CDN, so they work offline. Inline styles and scripts are allowed for the bundled
 * third-party UIs (Scalar, Bull Board) that set them.
 */
export const htmlPageCsp: RequestHandler = (_req, res, next) => {
  res.set(
    'Content-Security-Policy',
    [
      "default-src 'self'",
      "script-src 'self' 'unsafe-inline'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
  );
  next();
};
