import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { bucketIndex, WINDOW_SUMS_LUA, windowSums } from './windowed-counts.js';

/**
 * Retry and hedge budgets (DESIGN §6): extra requests may be spent only up to a fixed
 * share of the base traffic in a rolling window, plus a small floor so a quiet series can
 * still retry. During an outage every job fails at once; without a budget the retries
 * would multiply the load on a provider that is already down.
 *
 * Keys: `<prefix>budget:<name>:<series>`, a hash of windowed counters (see
 * windowed-counts.ts): `sub:<bucket>` submissions, `spent:<bucket>` spends allowed. It
 * expires one window after its last write.
 */

export interface BudgetOptions {
  /** Which budget, e.g. `retry` or `hedge`; part of the key. */
  name: string;
  /** Spends allowed per submission in the window, e.g. 0.1 for 10 %. */
  ratio: number;
  /** Spends allowed per window on top of the ratio, so low traffic can still spend. */
  minPerWindow: number;
  /** Length of the rolling window. Unit: milliseconds. @defaultValue 60_000 */
  windowMs?: number;
  /** Buckets the window is split into; it rolls forward one bucket at a time. @defaultValue 6 */
  buckets?: number;
  /** @defaultValue '{fluxq}:' */
  prefix?: string;
  now?: Clock;
}

export interface BudgetUsage {
  /** Base traffic counted in the current window. */
  submissions: number;
  /** Spends allowed in the current window. */
  spent: number;
}

export interface Budget {
  /** Counts base traffic (first attempts) that earns budget; `count` is rounded to a whole number. */
  recordSubmission(series: string, count?: number): Promise<void>;
  /** True, and counted as spent, when spent < ratio × submissions + minPerWindow in the window. */
  tryConsume(series: string): Promise<boolean>;
  usage(series: string): Promise<BudgetUsage>;
}

// Both scripts: KEYS[1] budget hash; ARGV[1] current bucket, ARGV[2] buckets in the window,
// ARGV[3] key TTL (ms).

// ARGV[4] submissions to add.
const SUBMIT = `${WINDOW_SUMS_LUA}
window_sums(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[1], 'sub:' .. ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

// ARGV[4] ratio, ARGV[5] minPerWindow. Returns 1 when the spend was allowed (and counted).
// The epsilon keeps float noise (0.07 × 100 = 7.000000000000001) from granting one extra.
const CONSUME = `${WINDOW_SUMS_LUA}
local sums = window_sums(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
local allowance = tonumber(ARGV[4]) * (sums['sub'] or 0) + tonumber(ARGV[5])
if (sums['spent'] or 0) < allowance - 1e-9 then
  redis.call('HINCRBY', KEYS[1], 'spent:' .. ARGV[1], 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

type WithBudgetScripts = Redis & {
  fluxqBudgetSubmit(key: string, ...args: string[]): Promise<number>;
  fluxqBudgetConsume(key: string, ...args: string[]): Promise<number>;
};

export function createBudget(redis: Redis, options: BudgetOptions): Budget {
  const windowMs = options.windowMs ?? 60_000;
  const buckets = options.buckets ?? 6;
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const now = options.now ?? Date.now;
  const bucketMs = windowMs / buckets;
  const ttlMs = String(Math.ceil(windowMs + bucketMs));
  if (!('fluxqBudgetSubmit' in redis)) {
    redis.defineCommand('fluxqBudgetSubmit', { numberOfKeys: 1, lua: SUBMIT });
    redis.defineCommand('fluxqBudgetConsume', { numberOfKeys: 1, lua: CONSUME });
  }
  const scripted = redis as WithBudgetScripts;
  const keyOf = (series: string) => `${prefix}budget:${options.name}:${series}`;

  return {
    async recordSubmission(series, count = 1) {
      const whole = Math.round(count);
      if (!(whole > 0)) return;
      const current = String(bucketIndex(now(), bucketMs));
      await scripted.fluxqBudgetSubmit(keyOf(series), current, String(buckets), ttlMs, String(whole));
    },

    async tryConsume(series) {
      const current = String(bucketIndex(now(), bucketMs));
      const allowed = await scripted.fluxqBudgetConsume(
        keyOf(series),
        current,
        String(buckets),
        ttlMs,
        String(options.ratio),
        String(options.minPerWindow),
      );
      return allowed === 1;
    },

    async usage(series) {
      const fields = await redis.hgetall(keyOf(series));
      const sums = windowSums(fields, bucketIndex(now(), bucketMs), buckets);
      return { submissions: sums.get('sub') ?? 0, spent: sums.get('spent') ?? 0 };
    },
  };
}
