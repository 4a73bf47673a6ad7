import { FluxqError, newId } from '@fluxq/core';
import type { Logger } from '@fluxq/runtime';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

declare global {
  namespace Express {
    interface Request {
      /** This request's id: the caller's sane `x-request-id`, or a fresh `req_…`. */
      id: string;
      /** The API logger bound to this request (`reqId` on every line). */
      log: Logger;
    }
  }
}

export const REQUEST_ID_HEADER = 'x-request-id';
/** An incoming request id we take as it is: a short token, nothing that could break a header or a log. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Names every request: honours a sane incoming `x-request-id` (else a fresh `req_…`),
 * echoes it on every response (errors included, as it is set before anything can fail)
 * and binds it to a child logger on `req.log`.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const claimed = req.get(REQUEST_ID_HEADER);
    const id = claimed !== undefined && REQUEST_ID_PATTERN.test(claimed) ? claimed : newId('req');
    req.id = id;
    req.log = logger.child({ reqId: id });
    res.set(REQUEST_ID_HEADER, id);
    next();
  };
}

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
