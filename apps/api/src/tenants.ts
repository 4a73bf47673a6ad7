import { createHash } from 'node:crypto';
import { FluxqError } from '@fluxq/core';
import type { RequestHandler } from 'express';

/** The tenant every caller is in local open mode (no keys configured). */
export const OPEN_MODE_TENANT = 'local';

declare global {
  namespace Express {
    interface Request {
      /** Set by the auth middleware: whose data this request may see. */
      tenant: string;
    }
  }
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** Parses `key:tenant,key:tenant` into a map from key hash to tenant (keys are never kept in clear). */
export function parseApiKeys(spec: string | undefined): Map<string, string> | undefined {
  if (!spec) return undefined;
  const keys = new Map<string, string>();
  for (const pair of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = pair.lastIndexOf(':');
    const key = colon > 0 ? pair.slice(0, colon) : pair;
    const tenant = colon > 0 ? pair.slice(colon + 1) : 'default';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant))
      throw new Error(`API_KEYS: tenant "${tenant}" must match [A-Za-z0-9_-]{1,64}`);
    keys.set(hash(key), tenant);
  }
  return keys;
}

/** Resolves the caller's tenant from `Authorization: Bearer <key>`; open mode lets everyone in as `local`. */
export function authenticate(keys: Map<string, string> | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!keys) {
      req.tenant = OPEN_MODE_TENANT;
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const tenant = match ? keys.get(hash(match[1]!)) : undefined;
    if (!tenant) {
      return next(
        new FluxqError('invalid_api_key', 'missing or unknown API key: send Authorization: Bearer <key>'),
      );
    }
    req.tenant = tenant;
    next();
  };
}
