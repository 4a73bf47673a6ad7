import { randomBytes } from 'node:crypto';
import { FluxqError } from '@fluxq/core';
import { QUEUE_PREFIX } from '@fluxq/queue';
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { ApiDeps } from '../deps.js';

/** The window `requests_per_minute` counts over. */
const WINDOW_MS = 60_000;
/** At most one "Redis down, not limiting" warning per this long, per process. */
const FAIL_OPEN_WARN_EVERY_MS = 10_000;

export const rateLimitKey = (tenant: string) => `${QUEUE_PREFIX}:ratelimit:${tenant}`;

// A sliding-window log: one sorted-set member per request let through in the last window
// (score = Redis server time, ms), so every API process counts against the same window and
// clocks of different hosts never disagree. A refused request is not logged: a client that
// keeps hammering gets its next request through as soon as the window has room again.
// KEYS[1] the tenant's log; ARGV[1] limit, ARGV[2] window ms, ARGV[3] unique member suffix.
// Returns {allowed (0|1), remaining, ms until the oldest logged request leaves the window}.
const SLIDING_WINDOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, math.max(0, limit - count), reset}
`;

type WithRateLimitScript = Redis & {
  fluxqRateLimit(key: string, ...args: string[]): Promise<[0 | 1, number, number]>;
};

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Until the oldest request in the window leaves it, i.e. until one more is allowed. Unit: milliseconds. */
  resetMs: number;
}

/** Counts one request of `tenant` against `limit` per minute, atomically across API processes. */
export async function takeRequest(redis: Redis, tenant: string, limit: number): Promise<RateLimitDecision> {
  if (!('fluxqRateLimit' in redis)) {
    redis.defineCommand('fluxqRateLimit', { numberOfKeys: 1, lua: SLIDING_WINDOW });
  }
  const [allowed, remaining, resetMs] = await (redis as WithRateLimitScript).fluxqRateLimit(
    rateLimitKey(tenant),
    String(limit),
    String(WINDOW_MS),
    randomBytes(6).toString('hex'),
  );
  return { allowed: allowed === 1, limit, remaining, resetMs };
}

/**
 * Per-tenant request rate (`requests_per_minute`), mounted after authentication. Responses
 * of a limited tenant carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
 * (seconds) and `RateLimit-Policy` (IETF httpapi-ratelimit-headers draft); over the
 * limit the answer is a 429 `rate_limit_exceeded` with `Retry-After`. Admin keys and
 * tenants without a limit are not counted. When Redis cannot be reached the request is
 * let through (the job store would answer 503 anyway): a limiter outage never refuses work.
 */
export function rateLimit(deps: Pick<ApiDeps, 'redis' | 'tenants' | 'logger'>): RequestHandler {
  let lastWarnMs = 0;
  return async (req, res, next) => {
    if (req.isAdmin) return next();
    const limit = deps.tenants.limitsOf(req.tenant).requestsPerMinute;
    if (limit === null) return next();
    let decision: RateLimitDecision;
    try {
      decision = await takeRequest(deps.redis, req.tenant, limit);
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
