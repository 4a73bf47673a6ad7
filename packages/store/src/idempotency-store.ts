import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * Claims of `Idempotency-Key`s, one string per tenant and key hash: a request first claims
 * the key (`in_flight`), then replaces the claim with the job it created (`done`). The values
 * are the caller's (opaque JSON here); what they mean is the API's (apps/api/src/services/idempotency.ts).
 */
export interface IdempotencyStore {
  /** Claims the key with `value` for `ttlS` seconds; false when someone holds it already. */
  claim(tenant: string, keyHash: string, value: string, ttlS: number): Promise<boolean>;
  /** The value held now, or undefined. */
  read(tenant: string, keyHash: string): Promise<string | undefined>;
  /**
   * Replaces the value with `next` (kept `ttlS` seconds), or deletes it when `next` is
   * undefined, only if it is still `expected`; false when it was not.
   */
  replaceIfSame(
    tenant: string,
    keyHash: string,
    expected: string,
    next: string | undefined,
    ttlS: number,
  ): Promise<boolean>;
}

export function createIdempotencyStore(redis: Redis): IdempotencyStore {
  return {
    async claim(tenant, keyHash, value, ttlS) {
      return (await redis.set(recordKeys.idempotency(tenant, keyHash), value, 'EX', ttlS, 'NX')) === 'OK';
    },
    async read(tenant, keyHash) {
      return (await redis.get(recordKeys.idempotency(tenant, keyHash))) ?? undefined;
    },
    async replaceIfSame(tenant, keyHash, expected, next, ttlS) {
      const done = await runScript<number>(
        redis,
        'idempotencyReplace',
        [recordKeys.idempotency(tenant, keyHash)],
        [expected, next ?? '', ttlS],
      );
      return done === 1;
    },
  };
}
