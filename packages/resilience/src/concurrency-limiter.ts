import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';

/**
 * A distributed counting semaphore: at most `limit` holders across all worker processes,
 * for the fal account's concurrency limit (DESIGN §6, `FAL_MAX_CONCURRENCY`). Each
 * holder has a lease that expires unless renewed, so a worker that dies without
 * releasing gives its slots back after `leaseMs` instead of shrinking the pool forever.
 *
 * Key: `<prefix><key>` (e.g. `{fluxq}:fal:slots`), a sorted set of leases: member =
 * lease id, score = expiry (ms since the epoch). A lease is live while its score > now.
 */

export interface ConcurrencyLimiterOptions {
  /** Sorted-set key after the prefix, e.g. `fal:slots`. */
  key: string;
  /** Most leases live at once. */
  limit: number;
  /** A lease not renewed within this long is taken back. Unit: milliseconds. @defaultValue 30_000 */
  leaseMs?: number;
  /** @defaultValue '{fluxq}:' */
  prefix?: string;
  /** Decides lease expiry only; `acquire` polls on real timers. */
  now?: Clock;
}

export interface AcquireOptions {
  /** Stops waiting; `acquire` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Pause between two tries, jittered ±50 % so waiters spread out. Unit: milliseconds. @defaultValue 100 */
  pollMs?: number;
}

export interface ConcurrencyLimiter {
  /**
   * Takes a slot for `leaseId` if one is free, and says whether it did. Asking again for
   * an id that already holds a slot extends its lease and succeeds: a retried call (after
   * a lost reply) never takes a second slot.
   */
  tryAcquire(leaseId: string): Promise<boolean>;
  /** Waits until `leaseId` holds a slot. */
  acquire(leaseId: string, options?: AcquireOptions): Promise<void>;
  /**
   * Extends the leases of `leaseIds` that are still held, and returns the ids that are
   * not (expired and taken back, or released): their holders no longer own a slot.
   */
  renew(leaseIds: readonly string[]): Promise<string[]>;
  release(leaseId: string): Promise<void>;
  /** Live leases. */
  inUse(): Promise<number>;
}

// KEYS[1] lease set; ARGV[1] now, ARGV[2] new expiry, ARGV[3] limit, ARGV[4] lease id.
// Returns 1 when ARGV[4] holds a slot afterwards.
const TRY_ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  return 1
end
return 0
`;

// KEYS[1] lease set; ARGV[1] new expiry, ARGV[2..] lease ids. Returns the ids not held.
// Expired members not yet removed are renewed too: nobody can have taken their slot,
// because a slot is only reused after TRY_ACQUIRE removed the expired member.
const RENEW = `
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`;

type WithLimiterScripts = Redis & {
  fluxqSlotsTryAcquire(key: string, ...args: string[]): Promise<number>;
  fluxqSlotsRenew(key: string, ...args: string[]): Promise<string[]>;
};

export function createConcurrencyLimiter(
  redis: Redis,
  options: ConcurrencyLimiterOptions,
): ConcurrencyLimiter {
  const leaseMs = options.leaseMs ?? 30_000;
  const now = options.now ?? Date.now;
  const key = `${options.prefix ?? DEFAULT_KEY_PREFIX}${options.key}`;
  if (!('fluxqSlotsTryAcquire' in redis)) {
    redis.defineCommand('fluxqSlotsTryAcquire', { numberOfKeys: 1, lua: TRY_ACQUIRE });
    redis.defineCommand('fluxqSlotsRenew', { numberOfKeys: 1, lua: RENEW });
  }
  const scripted = redis as WithLimiterScripts;

  const tryAcquire = async (leaseId: string) => {
    const t = Math.floor(now());
    const held = await scripted.fluxqSlotsTryAcquire(
      key,
      String(t),
      String(t + leaseMs),
      String(options.limit),
      leaseId,
    );
    return held === 1;
  };

  const release = async (leaseId: string) => {
    await redis.zrem(key, leaseId);
  };

  return {
    tryAcquire,
    release,

    async acquire(leaseId, { signal, pollMs = 100 } = {}) {
      for (;;) {
        signal?.throwIfAborted();
        if (await tryAcquire(leaseId)) {
          // Aborted while the slot was being taken: hand it back rather than leak it.
          if (signal?.aborted) {
            await release(leaseId);
            signal.throwIfAborted();
          }
          return;
        }
        await pause(pollMs * (0.5 + Math.random()), signal);
      }
    },

    async renew(leaseIds) {
      if (leaseIds.length === 0) return [];
      return scripted.fluxqSlotsRenew(key, String(Math.floor(now()) + leaseMs), ...leaseIds);
    },

    async inUse() {
      return redis.zcount(key, `(${Math.floor(now())}`, '+inf');
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await delay(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}
