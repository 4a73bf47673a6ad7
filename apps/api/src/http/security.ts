import { FluxqError } from '@fluxq/core';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers for a JSON API. Helmet's defaults minus what only matters for HTML
 * documents (its CSP of script/style sources, COOP, Origin-Agent-Cluster); a CSP that
 * allows nothing and no framing instead. Cross-origin reads of file URLs stay allowed:
 * signed `/v1/files/…` URLs are meant to work in an `<img>` on the client's own site.
 * `nosniff`, `X-Frame-Options`, `Referrer-Policy: no-referrer` and HSTS (honoured by
 * browsers behind TLS only) keep helmet's defaults.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    originAgentCluster: false,
  });
}

const hasBody = (req: Parameters<RequestHandler>[0]) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * Bodies arrive as sent: a `Content-Encoding` other than `identity` is a 415 before a byte
 * is read (no gzip bombs: nothing here inflates). The connection closes rather than drain it.
 */
export const refuseEncodedBodies: RequestHandler = (req, res, next) => {
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '' || !hasBody(req)) return next();
  res.set('Connection', 'close');
  next(
    new FluxqError(
      'unsupported_content_type',
      `Content-Encoding ${encoding.slice(0, 40)} is not supported: send the body uncompressed`,
    ),
  );
};
