import { newId } from '@fluxq/core';
import type { Logger } from '@fluxq/runtime';
import type { RequestHandler } from 'express';

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
 * and binds it to a child logger on `req.log` (made when first read).
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const claimed = req.get(REQUEST_ID_HEADER);
    const id = claimed !== undefined && REQUEST_ID_PATTERN.test(claimed) ? claimed : newId('req');
    req.id = id;
    // Bound on first use: most requests log nothing, and a child logger per request is not free.
    let log: Logger | undefined;
    Object.defineProperty(req, 'log', {
      get: () => (log ??= logger.child({ reqId: id })),
      configurable: true,
      enumerable: true,
    });
    res.set(REQUEST_ID_HEADER, id);
    next();
  };
}
