import { FluxqError } from '@fluxq/core';
import type { RequestHandler } from 'express';
import { OPEN_MODE_TENANT, type TenantRegistry } from './tenant-registry.js';

export { OPEN_MODE_TENANT };

declare global {
  namespace Express {
    interface Request {
      /** Set by the auth middleware: whose data this request may see. */
      tenant: string;
      /** The caller holds an admin key (cross-tenant stats, no rate limit). */
      isAdmin: boolean;
      /**
       * The caller may see the operator views (`/metrics`, `/admin/*`): an admin key, or in
       * local open mode anyone connecting over loopback (open mode listens nowhere else).
       */
      isOperator: boolean;
    }
  }
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
const isLoopback = (address: string | undefined): boolean =>
  address !== undefined && (/^(::ffff:)?127\./.test(address) || address === '::1');

/** Resolves the caller's tenant from `Authorization: Bearer <key>`; open mode lets everyone in as `local`. */
export function authenticate(tenants: TenantRegistry): RequestHandler {
  return (req, _res, next) => {
    if (tenants.openMode) {
      req.tenant = OPEN_MODE_TENANT;
      req.isAdmin = false;
      req.isOperator = isLoopback(req.socket.remoteAddress);
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
    req.isOperator = caller.admin;
    next();
  };
}
