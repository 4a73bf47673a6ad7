import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@fluxq/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type ConcurrencyLimiterOptions, createConcurrencyLimiter } from '../src/index.js';
import { useRedisFixture } from './redis-fixture.js';

const fx = useRedisFixture('slots', 3, Date.UTC(2026, 0, 2, 3, 4, 5));

/** Scripts Redis has run so far (every tryAcquire, including acquire's polls, is one). */
async function scriptCalls(): Promise<number> {
  const stats = await fx.redis.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

/** Resolves once Redis has run `count` more scripts: a waiting acquire has polled and been refused. */
async function polled(count: number) {
  const target = (await scriptCalls()) + count;
  await waitFor(async () => (await scriptCalls()) >= target, { intervalMs: 5, message: `${count} polls` });
}

/** A limiter on `connection` with the test clock and this test's key prefix. */
const limiterOn = (connection: Redis, options: Partial<ConcurrencyLimiterOptions> = {}) =>
  createConcurrencyLimiter(connection, {
    key: 'fal:slots',
    limit: 4,
    prefix: fx.prefix,
    now: () => fx.clock,
    ...options,
  });
const limiter = (options: Partial<ConcurrencyLimiterOptions> = {}) => limiterOn(fx.redis, options);

describe('concurrency limiter', () => {
  describe('when many workers want slots', () => {
    it('never lets more than `limit` hold one, and serves everyone (10 acquirers, 3 connections)', async () => {
      const limiters = fx.connections.map((c) => limiterOn(c, { limit: 4 }));
      let holding = 0;
      let most = 0;
      const served: string[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const id = `lease-${i}`;
          const slots = limiters[i % limiters.length];
          if (!slots) throw new Error('no limiter');
          await slots.acquire(id, { pollMs: 10 });
          holding++;
          most = Math.max(most, holding);
          expect(await slots.inUse()).toBeLessThanOrEqual(4);
          // The work a slot is held for: a short real pause, not a wait for state.
          await sleep(5 + Math.random() * 20);
          holding--;
          served.push(id);
          await slots.release(id);
        }),
      );
      expect(most).toBeLessThanOrEqual(4);
      expect(most).toBeGreaterThan(1);
      expect(served.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `lease-${i}`).sort());
      expect(await limiters[0]?.inUse()).toBe(0);
    });

    it('grants no more than `limit` among concurrent tryAcquire calls', async () => {
      const limiters = fx.connections.map((c) => limiterOn(c, { limit: 4 }));
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => limiters[i % 3]?.tryAcquire(`lease-${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(4);
      expect(await limiter().inUse()).toBe(4);
    });
  });

  describe('when a lease is held', () => {
    it('treats a second tryAcquire of the same id as the same lease', async () => {
      const slots = limiter({ limit: 2 });
      expect(await slots.tryAcquire('a')).toBe(true);
      expect(await slots.tryAcquire('a')).toBe(true);
      expect(await slots.inUse()).toBe(1);
      expect(await slots.tryAcquire('b')).toBe(true);
      expect(await slots.tryAcquire('a')).toBe(true);
      expect(await slots.tryAcquire('c')).toBe(false);
    });

    it('frees the slot on release', async () => {
      const slots = limiter({ limit: 1 });
      expect(await slots.tryAcquire('a')).toBe(true);
      expect(await slots.tryAcquire('b')).toBe(false);
      await slots.release('a');
      expect(await slots.inUse()).toBe(0);
      expect(await slots.tryAcquire('b')).toBe(true);
    });

    it('frees the slot when the lease expires', async () => {
      const slots = limiter({ limit: 1, leaseMs: 30_000 });
      expect(await slots.tryAcquire('a')).toBe(true);
      fx.clock += 29_999;
      expect(await slots.inUse()).toBe(1);
      expect(await slots.tryAcquire('b')).toBe(false);
      fx.clock += 1;
      expect(await slots.inUse()).toBe(0);
      expect(await slots.tryAcquire('b')).toBe(true);
    });

    it('keeps the lease alive on renew and reports leases no longer held', async () => {
      const slots = limiter({ limit: 2, leaseMs: 30_000 });
      await slots.tryAcquire('a');
      await slots.tryAcquire('b');
      fx.clock += 20_000;
      expect(await slots.renew(['a', 'gone'])).toEqual(['gone']);
      fx.clock += 20_000; // b expired; a was renewed until 50 s
      expect(await slots.inUse()).toBe(1);
      expect(await slots.tryAcquire('c')).toBe(true);
      expect(await slots.tryAcquire('d')).toBe(false);
      // b's slot went to c: renewing b now tells its holder it lost it.
      expect(await slots.renew(['a', 'b'])).toEqual(['b']);
      expect(await slots.renew([])).toEqual([]);
    });

    it('waits in acquire until a slot frees', async () => {
      const slots = limiter({ limit: 1 });
      await slots.tryAcquire('a');
      let acquired = false;
      const waiting = slots.acquire('b', { pollMs: 10 }).then(() => {
        acquired = true;
      });
      await polled(3);
      expect(acquired).toBe(false);
      await slots.release('a');
      await waiting;
      expect(acquired).toBe(true);
    });
  });

  describe('when the wait is aborted', () => {
    it("rejects with the signal's reason and takes no slot", async () => {
      const slots = limiter({ limit: 1 });
      await slots.tryAcquire('a');
      const controller = new AbortController();
      const waiting = slots.acquire('b', { signal: controller.signal, pollMs: 10 });
      await polled(2);
      const reason = new Error('shutting down');
      controller.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      await slots.release('a');
      expect(await slots.inUse()).toBe(0);
    });

    it('rejects at once when the signal is already aborted', async () => {
      const slots = limiter();
      const reason = new Error('already gone');
      await expect(slots.acquire('a', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(await slots.inUse()).toBe(0);
    });
  });

  describe('in Redis', () => {
    it('keeps leases in one sorted set scored by expiry', async () => {
      const slots = limiter({ leaseMs: 30_000 });
      await slots.tryAcquire('a');
      expect(await fx.redis.zrange(`${fx.prefix}fal:slots`, 0, -1, 'WITHSCORES')).toEqual([
        'a',
        String(fx.clock + 30_000),
      ]);
    });
  });
});
