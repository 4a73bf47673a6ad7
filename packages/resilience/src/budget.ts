import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { runScript } from './scripts.js';
import { bucketIndex, windowSums } from './windowed-counts.js';

/**
 * Retry and hedge budgets (DESIGN §6): extra requests may be spent only up to a fixed
 * share of the base traffic in a rolling window, plus a small floor so a quiet series can
 * still retry. During an outage every job fails at once; without a budget the retries
 * would multiply the load on a provider that is already down.
 *
 * Keys: `<prefix>budget:<name>:<series>`, a hash of windowed counters (see
 * windowed-counts.ts; scripts lua/budget-*.lua): `sub:<bucket>` submissions, `spent:<bucket>` spends allowed. It
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

export function createBudget(redis: Redis, options: BudgetOptions): Budget {
  const windowMs = options.windowMs ?? 60_000;
  const buckets = options.buckets ?? 6;
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const now = options.now ?? Date.now;
  const bucketMs = windowMs / buckets;
  const ttlMs = String(Math.ceil(windowMs + bucketMs));
  const keyOf = (series: string) => `${prefix}budget:${options.name}:${series}`;

  return {
    async recordSubmission(series, count = 1) {
      const whole = Math.round(count);
      if (!(whole > 0)) return;
      const current = String(bucketIndex(now(), bucketMs));
      await runScript(redis, 'budgetSubmit', [keyOf(series)], [current, buckets, ttlMs, whole]);
    },

    async tryConsume(series) {
      const current = String(bucketIndex(now(), bucketMs));
      const allowed = await runScript<number>(
        redis,
        'budgetConsume',
        [keyOf(series)],
        [current, buckets, ttlMs, options.ratio, options.minPerWindow],
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
