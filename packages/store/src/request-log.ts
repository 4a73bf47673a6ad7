import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

export interface RequestLogDecision {
  allowed: boolean;
  remaining: number;
  /** Until the oldest request in the window leaves it, i.e. until one more is allowed. Unit: milliseconds. */
  resetMs: number;
}

/** Per-tenant sliding-window request logs: the rate limit's state, shared by every API process. */
export interface RequestLog {
  /** Counts one request of `tenant` against `limit` per `windowMs`, atomically. */
  take(tenant: string, limit: number, windowMs: number): Promise<RequestLogDecision>;
}

export function createRequestLog(redis: Redis): RequestLog {
  return {
    async take(tenant, limit, windowMs) {
      const [allowed, remaining, resetMs] = await runScript<[0 | 1, number, number]>(
        redis,
        'requestLogTake',
        [recordKeys.requestLog(tenant)],
        [limit, windowMs, randomBytes(6).toString('hex')],
      );
      return { allowed: allowed === 1, remaining, resetMs };
    },
  };
}
