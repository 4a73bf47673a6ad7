import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

/** A day's counter outlives its day by one, so "spent today" reads right across midnight. */
const COUNTER_TTL_S = 2 * 24 * 3_600;

/**
 * What each tenant's accepted jobs cost per UTC day, as integer micro-dollars (sums never pick
 * up float error). The cap is the caller's to pass; this only counts, atomically.
 */
export interface SpendLedger {
  /** Adds `micros` to the day's spend unless that passes `capMicros`; says whether it did and the spend after (or now). */
  reserve(
    tenant: string,
    day: string,
    micros: number,
    capMicros: number,
  ): Promise<{ reserved: boolean; spentMicros: number }>;
  /** Gives a reservation back (nothing when the day's counter has expired). */
  release(tenant: string, day: string, micros: number): Promise<void>;
  spent(tenant: string, day: string): Promise<number>;
}

export function createSpendLedger(redis: Redis): SpendLedger {
  return {
    async reserve(tenant, day, micros, capMicros) {
      const [reserved, spent] = await runScript<[0 | 1, number]>(
        redis,
        'spendReserve',
        [recordKeys.spend(tenant, day)],
        [micros, capMicros, COUNTER_TTL_S],
      );
      return { reserved: reserved === 1, spentMicros: Number(spent) };
    },
    async release(tenant, day, micros) {
      await runScript<number>(redis, 'spendRelease', [recordKeys.spend(tenant, day)], [micros]);
    },
    async spent(tenant, day) {
      return Number((await redis.get(recordKeys.spend(tenant, day))) ?? 0);
    },
  };
}
