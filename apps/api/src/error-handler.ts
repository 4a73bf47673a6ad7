import { FluxqError, isFluxqError } from '@fluxq/core';
import { isRedisUnavailableError } from '@fluxq/queue';
import type { Logger } from '@fluxq/runtime';
import { StorageKeyError } from '@fluxq/storage';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { jsonRefusal } from './require-json.js';

/** Errors body-parser raises, by its `type`. */
const BODY_ERRORS: Record<string, () => FluxqError> = {
  'entity.parse.failed': () => new FluxqError('invalid_json', 'the request body is not valid JSON'),
  'entity.too.large': () => new FluxqError('payload_too_large', 'the request body is too large'),
  'encoding.unsupported': () => new FluxqError('unsupported_content_type', 'unsupported content encoding'),
  'charset.unsupported': () => new FluxqError('unsupported_content_type', 'unsupported charset'),
  'request.aborted': () => new FluxqError('invalid_request', 'the request was aborted'),
  'request.size.invalid': () =>
    new FluxqError('invalid_request', 'the request body size does not match Content-Length'),
};

/** Turns any error into a `FluxqError`: known ones keep their meaning, anything else is a 500. */
export function toFluxqError(err: unknown): FluxqError {
  if (isFluxqError(err)) return err;
  const refused = jsonRefusal(err);
  if (refused) return refused;
  const type = (err as { type?: unknown })?.type;
  if (typeof type === 'string' && BODY_ERRORS[type]) return BODY_ERRORS[type]();
  // The router could not percent-decode a path parameter.
  if (err instanceof URIError)
    return new FluxqError('invalid_request', 'the request path is not valid percent-encoding');
  if (err instanceof StorageKeyError)
    return new FluxqError('invalid_request', 'invalid file key', { param: 'key' });
  if (isRedisUnavailableError(err)) {
    return new FluxqError('redis_unavailable', 'the job store is unavailable; retry shortly', {
      retryAfterS: 5,
    });
  }
  return new FluxqError('internal_error', 'internal error', { cause: err });
}

/**
 * The last middleware: OpenAI's error envelope, never a stack trace (a 500 says only
 * "internal error"; the details go to the log, under the request's id).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = toFluxqError(err);
    const log = req.log ?? logger;
    if (error.status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    else
      log.debug(
        { status: error.status, code: error.code, method: req.method, path: req.path },
        'request refused',
      );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error.retryAfterS !== undefined) res.set('Retry-After', String(error.retryAfterS));
    res.status(error.status).json(error.toEnvelope());
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new FluxqError('not_found', `no route for ${req.method} ${req.path}`));
};
