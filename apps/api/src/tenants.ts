import { FluxqError } from '@fluxq/core';
import type { RequestHandler } from 'express';
import { OPEN_MODE_TENANT, type TenantRegistry } from './tenant-registry.js';

export { OPEN_MODE_TENANT };

declare global {
  namespace Express {
    interface Request {
      /** Set by the auth middleware: whose data this request may see. */
      tenant: string;
      /** The caller holds an admin key (`/metrics`, `/admin/*`, cross-tenant stats). */
      isAdmin: boolean;
    }
  }
}

/** Resolves the caller's tenant from `Authorization: Bearer <key>`; open mode lets everyone in as `local`. */
export function authenticate(tenants: TenantRegistry): RequestHandler {
  return (req, _res, next) => {
    if (tenants.openMode) {
      req.tenant = OPEN_MODE_TENANT;
      req.isAdmin = false;
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const caller = match ? tenants.authenticate(match[1]!) : undefined;
    if (!caller) {
      return next(
        new FluxqError('invalid_api_key', 'missing or unknown API key: send Authorization: Bearer <key>'),
      );
    }
    req.tenant = caller.tenant;
    req.isAdmin = caller.admin;
    next();
  };
}
