import { FluxqError } from '@fluxq/core';
import { QUEUE_PREFIX } from '@fluxq/queue';
import type { Redis } from 'ioredis';
import type { ApiDeps } from '../deps.js';

/**
 * The daily spend cap (`daily_spend_usd`): what a tenant's accepted jobs cost per UTC day,
 * priced at submit by the pricing rule (the job's quote), kept in Redis as an integer
 * number of micro-dollars so sums never pick up float error. A day's counter expires
 * after two days.
 */

const MICROS_PER_USD = 1_000_000;
const COUNTER_TTL_S = 2 * 24 * 3_600;

export const toMicroUsd = (usd: number) => Math.round(usd * MICROS_PER_USD);
export const fromMicroUsd = (micros: number) => micros / MICROS_PER_USD;

/** `YYYY-MM-DD` of `ms` in UTC: the day spend is counted in. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export const spendKey = (tenant: string, day: string) => `${QUEUE_PREFIX}:spend:${tenant}:${day}`;

// KEYS[1] the day's counter; ARGV[1] amount (µ$), ARGV[2] cap (µ$), ARGV[3] TTL (s).
// Adds the amount unless that would take the counter past the cap.
// Returns {1, spent after} when reserved, {0, spent} when refused.
const RESERVE = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if spent + amount > tonumber(ARGV[2]) then return {0, spent} end
spent = redis.call('INCRBY', KEYS[1], amount)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, spent}
`;

// KEYS[1] the day's counter; ARGV[1] amount (µ$). Gives a reservation back, unless the
// counter is gone (expired): a DECRBY would then leave a negative counter without a TTL.
const RELEASE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECRBY', KEYS[1], ARGV[1]) end
return 0
`;

type WithSpendScripts = Redis & {
  fluxqSpendReserve(key: string, ...args: string[]): Promise<[0 | 1, number]>;
  fluxqSpendRelease(key: string, amount: string): Promise<number>;
};

function scripted(redis: Redis): WithSpendScripts {
  if (!('fluxqSpendReserve' in redis)) {
    redis.defineCommand('fluxqSpendReserve', { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand('fluxqSpendRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  return redis as WithSpendScripts;
}

/** `$0.008`, `$0.021`, `$5.00`: as many decimals as the amount has (at least two, at most six). */
export function formatUsd(usd: number): string {
  const [whole, fraction = ''] = usd.toFixed(6).replace(/0+$/, '').split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

function overCap(capUsd: number, spentMicros: number, costUsd: number): FluxqError {
  return new FluxqError(
    'spend_limit_reached',
    `daily spend limit of ${formatUsd(capUsd)} reached: ${formatUsd(fromMicroUsd(spentMicros))} spent today, ` +
      `this request costs ${formatUsd(costUsd)}`,
  );
}

/** A reservation of a request's price against today's cap; `release` gives it back. */
export interface SpendReservation {
  readonly usd: number;
  release(): Promise<void>;
}

const NOTHING_RESERVED: SpendReservation = { usd: 0, release: async () => {} };

/**
 * Adds `usd` to the tenant's spend today, or throws a 402 `spend_limit_reached` when that
 * would pass the tenant's daily cap. Without a cap it is counted all the same, so
 * `GET /v1/usage` and the dashboard show what a tenant without a cap spent.
 */
export async function reserveSpend(
  deps: Pick<ApiDeps, 'redis' | 'tenants' | 'now'>,
  tenant: string,
  usd: number,
): Promise<SpendReservation> {
  const cap = deps.tenants.limitsOf(tenant).dailySpendUsd;
  if (usd <= 0) return NOTHING_RESERVED;
  const key = spendKey(tenant, utcDay(deps.now()));
  const amount = String(toMicroUsd(usd));
  const [reserved, spent] = await scripted(deps.redis).fluxqSpendReserve(
    key,
    amount,
    cap === null ? String(Number.MAX_SAFE_INTEGER) : String(toMicroUsd(cap)),
    String(COUNTER_TTL_S),
  );
  if (reserved !== 1) throw overCap(cap ?? 0, spent, usd);
  return {
    usd,
    release: async () => {
      await scripted(deps.redis).fluxqSpendRelease(key, amount);
    },
  };
}

/** Spent today by the tenant, in USD. */
export async function spentToday(deps: Pick<ApiDeps, 'redis' | 'now'>, tenant: string): Promise<number> {
  const spent = await deps.redis.get(spendKey(tenant, utcDay(deps.now())));
  return fromMicroUsd(Number(spent ?? 0));
}

/**
 * What a quote owes the truth: throws the 402 that submitting a request of `usd` would
 * get right now, without reserving anything.
 */
export async function checkSpend(
  deps: Pick<ApiDeps, 'redis' | 'tenants' | 'now'>,
  tenant: string,
  usd: number,
): Promise<void> {
  const cap = deps.tenants.limitsOf(tenant).dailySpendUsd;
  if (cap === null) return;
  const spent = toMicroUsd(await spentToday(deps, tenant));
  if (spent + toMicroUsd(usd) > toMicroUsd(cap)) throw overCap(cap, spent, usd);
}
