import { FluxqError } from '@fluxq/core';
import express, { type RequestHandler } from 'express';

/** A JSON body parser that refuses other content types with a 415 instead of ignoring the body. */
export function requireJson(limitBytes: number): RequestHandler[] {
  const parse = express.json({ limit: limitBytes, strict: false });
  return [
    (req, _res, next) => {
      if (!req.is('application/json')) {
        const got = req.get('content-type') ?? 'none';
        return next(
          new FluxqError(
            'unsupported_content_type',
            `send Content-Type: application/json (got ${got.slice(0, 100)})`,
          ),
        );
      }
      next();
    },
    parse,
  ];
}
