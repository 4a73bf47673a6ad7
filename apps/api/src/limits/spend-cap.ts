import { FluxqError } from '@fluxq/core';
import type { ApiDeps } from '../deps.js';

/**
 * The daily spend cap (`daily_spend_usd`): what a tenant's accepted jobs cost per UTC day,
 * priced at submit by the pricing rule (the job's quote), counted per day in the spend
 * ledger (packages/store) as integer micro-dollars so sums never pick up float error.
 */

const MICROS_PER_USD = 1_000_000;

export const toMicroUsd = (usd: number) => Math.round(usd * MICROS_PER_USD);
export const fromMicroUsd = (micros: number) => micros / MICROS_PER_USD;

/** `YYYY-MM-DD` of `ms` in UTC: the day spend is counted in. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

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
  deps: Pick<ApiDeps, 'records' | 'tenants' | 'now'>,
  tenant: string,
  usd: number,
): Promise<SpendReservation> {
  const cap = deps.tenants.limitsOf(tenant).dailySpendUsd;
  if (usd <= 0) return NOTHING_RESERVED;
  const day = utcDay(deps.now());
  const micros = toMicroUsd(usd);
  const { reserved, spentMicros } = await deps.records.spend.reserve(
    tenant,
    day,
    micros,
    cap === null ? Number.MAX_SAFE_INTEGER : toMicroUsd(cap),
  );
  if (!reserved) throw overCap(cap ?? 0, spentMicros, usd);
  return { usd, release: () => deps.records.spend.release(tenant, day, micros) };
}

/** Spent today by the tenant, in USD. */
export async function spentToday(deps: Pick<ApiDeps, 'records' | 'now'>, tenant: string): Promise<number> {
  return fromMicroUsd(await deps.records.spend.spent(tenant, utcDay(deps.now())));
}

/**
 * What a quote owes the truth: throws the 402 that submitting a request of `usd` would
 * get right now, without reserving anything.
 */
export async function checkSpend(
  deps: Pick<ApiDeps, 'records' | 'tenants' | 'now'>,
  tenant: string,
  usd: number,
): Promise<void> {
  const cap = deps.tenants.limitsOf(tenant).dailySpendUsd;
  if (cap === null) return;
  const spent = toMicroUsd(await spentToday(deps, tenant));
  if (spent + toMicroUsd(usd) > toMicroUsd(cap)) throw overCap(cap, spent, usd);
}
