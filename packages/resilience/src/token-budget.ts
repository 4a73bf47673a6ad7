import type { Redis } from 'ioredis';
import type { Budget } from './budget.js';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { runScript } from './scripts.js';

/**
 * A spend budget as a token bucket (the hedge budget, issue 17). Each submission of base
 * traffic adds `ratio` tokens, time adds `floorPerWindow` tokens per `windowMs`, and a
 * spend takes one whole token; the bucket holds at most `capacity`.
 *
 * Why not the rolling window of budget.ts: there the allowance earned by a submission
 * expires with the window, so at low traffic (a few jobs a minute) two slow requests close
 * together find `ratio × few + min` spent and the second goes unhedged, although over any
 * longer stretch hedges stayed far below the ratio. Here unspent tokens carry over (up to
 * `capacity`, which bounds a burst when the latency distribution lags a slowdown and every
 * request looks slow), and the floor refills a quiet series so it never starves.
 *
 * Long-run bound: spends ≤ ratio × submissions + floorPerWindow × windows elapsed + capacity.
 *
 * Key: `<prefix>budget:<name>:<series>`, a hash `tokens` (float) and `at` (ms of the last
 * refill; scripts lua/token-budget-*.lua). A series never seen, or idle long enough for its key to expire, starts full.
 */

export interface TokenBudgetOptions {
  /** Which budget, e.g. `hedge`; part of the key. */
  name: string;
  /** Tokens per submission, e.g. 0.06 for 6 % of base traffic. */
  ratio: number;
  /** Tokens added per window however quiet the series is: the floor. */
  floorPerWindow: number;
  /** Period of the floor. Unit: milliseconds. @defaultValue 60_000 */
  windowMs?: number;
  /** Most tokens the bucket holds (the largest burst of spends). */
  capacity: number;
  /** @defaultValue '{fluxq}:' */
  prefix?: string;
  now?: Clock;
}

export interface TokenBudget extends Omit<Budget, 'usage'> {
  /** Tokens available now (after the floor's refill), without spending any. */
  tokens(series: string): Promise<number>;
}

export function createTokenBudget(redis: Redis, options: TokenBudgetOptions): TokenBudget {
  const windowMs = options.windowMs ?? 60_000;
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const now = options.now ?? Date.now;
  const capacity = Math.max(0, options.capacity);
  const floorPerMs = Math.max(0, options.floorPerWindow) / windowMs;
  // Kept while the floor has not refilled it: an expired key starts full, which it would be by then.
  // Without a floor nothing refills it, so it lives a day (a restart of a long-idle series starts full).
  const ttlMs = String(
    floorPerMs > 0 ? Math.ceil(capacity / floorPerMs + windowMs) : Math.max(windowMs, 86_400_000),
  );
  const keyOf = (series: string) => `${prefix}budget:${options.name}:${series}`;
  /** ARGV[1..3] of every script: now, the floor per ms, the capacity. */
  const bucket = () => [now(), floorPerMs, capacity];

  return {
    async recordSubmission(series, count = 1) {
      const whole = Math.round(count);
      if (!(whole > 0)) return;
      await runScript(
        redis,
        'tokenBudgetSubmit',
        [keyOf(series)],
        [...bucket(), ttlMs, options.ratio * whole],
      );
    },

    async tryConsume(series) {
      return (
        (await runScript<number>(redis, 'tokenBudgetConsume', [keyOf(series)], [...bucket(), ttlMs])) === 1
      );
    },

    async tokens(series) {
      return Number(await runScript<string>(redis, 'tokenBudgetRead', [keyOf(series)], bucket()));
    },
  };
}
