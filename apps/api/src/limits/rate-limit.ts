import { FluxqError } from '@fluxq/core';
import type { RequestHandler } from 'express';
import type { ApiDeps } from '../deps.js';

/** The window `requests_per_minute` counts over. */
const WINDOW_MS = 60_000;
/** At most one "Redis down, not limiting" warning per this long, per process. */
const FAIL_OPEN_WARN_EVERY_MS = 10_000;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the oldest request in the window leaves it, i.e. until one more is allowed. Unit: milliseconds. */
  resetMs: number;
}

/**
 * Counts one request of `tenant` against `limit` per minute, atomically across API processes
 * (a sliding-window log in Redis: packages/store, request-log.ts).
 */
export async function takeRequest(
  deps: Pick<ApiDeps, 'records'>,
  tenant: string,
  limit: number,
): Promise<RateLimitDecision> {
  const decision = await deps.records.requestLog.take(tenant, limit, WINDOW_MS);
  return { ...decision, limit };
}

/**
 * Per-tenant request rate (`requests_per_minute`), mounted after authentication. Responses
 * of a limited tenant carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
 * (seconds) and `RateLimit-Policy` (IETF httpapi-ratelimit-headers draft); over the
 * limit the answer is a 429 `rate_limit_exceeded` with `Retry-After`. Admin keys and
 * tenants without a limit are not counted. When Redis cannot be reached the request is
 * let through (the job store would answer 503 anyway): a limiter outage never refuses work.
 */
export function rateLimit(deps: Pick<ApiDeps, 'records' | 'tenants' | 'logger'>): RequestHandler {
  let lastWarnMs = 0;
  return async (req, res, next) => {
    if (req.isAdmin) return next();
    const limit = deps.tenants.limitsOf(req.tenant).requestsPerMinute;
    if (limit === null) return next();
    let decision: RateLimitDecision;
    try {
      decision = await takeRequest(deps, req.tenant, limit);
    } catch (err) {
      const now = Date.now();
      if (now - lastWarnMs >= FAIL_OPEN_WARN_EVERY_MS) {
        lastWarnMs = now;
        deps.logger.warn({ err, tenant: req.tenant }, 'rate limiter unavailable: request let through');
      }
      return next();
    }
    const resetS = Math.max(1, Math.ceil(decision.resetMs / 1000));
    res.set({
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': String(decision.remaining),
      'RateLimit-Reset': String(resetS),
      'RateLimit-Policy': `${limit};w=${WINDOW_MS / 1000}`,
    });
    if (decision.allowed) return next();
    next(
      new FluxqError(
        'rate_limit_exceeded',
        `rate limit of ${limit} requests per minute reached; retry in ${resetS} s`,
        { retryAfterS: resetS },
      ),
    );
  };
}
