import type { Redis } from 'ioredis';
import type { Budget } from './budget.js';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';

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
 * refill). A series never seen, or idle long enough for its key to expire, starts full.
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

// KEYS[1] bucket hash; ARGV[1] now (ms), ARGV[2] floor per ms, ARGV[3] capacity, ARGV[4] TTL (ms),
// ARGV[5] tokens to add (submit) or to take (consume, 1) or 0 (read).
const REFILL_LUA = `
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  at = now
end
-- A clock running behind another host's never takes tokens back.
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * tonumber(ARGV[2]))
  at = now
end
`;

const SAVE_LUA = `
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
`;

const SUBMIT = `${REFILL_LUA}
tokens = math.min(capacity, tokens + tonumber(ARGV[5]))
${SAVE_LUA}
return 1
`;

// The epsilon keeps float noise (0.1 × 10 = 0.9999999999999999) from refusing a whole token.
const CONSUME = `${REFILL_LUA}
if tokens >= 1 - 1e-9 then
  tokens = math.max(0, tokens - 1)
  ${SAVE_LUA}
  return 1
end
${SAVE_LUA}
return 0
`;

const READ = `${REFILL_LUA}
return tostring(tokens)
`;

type WithTokenScripts = Redis & {
  fluxqTokenSubmit(key: string, ...args: string[]): Promise<number>;
  fluxqTokenConsume(key: string, ...args: string[]): Promise<number>;
  fluxqTokenRead(key: string, ...args: string[]): Promise<string>;
};

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
  if (!('fluxqTokenSubmit' in redis)) {
    redis.defineCommand('fluxqTokenSubmit', { numberOfKeys: 1, lua: SUBMIT });
    redis.defineCommand('fluxqTokenConsume', { numberOfKeys: 1, lua: CONSUME });
    redis.defineCommand('fluxqTokenRead', { numberOfKeys: 1, lua: READ });
  }
  const scripted = redis as WithTokenScripts;
  const keyOf = (series: string) => `${prefix}budget:${options.name}:${series}`;
  const args = (amount: number) => [
    String(now()),
    String(floorPerMs),
    String(capacity),
    ttlMs,
    String(amount),
  ];

  return {
    async recordSubmission(series, count = 1) {
      const whole = Math.round(count);
      if (!(whole > 0)) return;
      await scripted.fluxqTokenSubmit(keyOf(series), ...args(options.ratio * whole));
    },

    async tryConsume(series) {
      return (await scripted.fluxqTokenConsume(keyOf(series), ...args(1))) === 1;
    },

    async tokens(series) {
      return Number(await scripted.fluxqTokenRead(keyOf(series), ...args(0)));
    },
  };
}
