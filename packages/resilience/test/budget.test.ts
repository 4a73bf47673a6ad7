import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type BudgetOptions, createBudget } from '../src/index.js';
import { countSpends } from './count-spends.js';
import { useRedisFixture } from './redis-fixture.js';

const series = 'flux.2-dev-turbo:edit';

const fx = useRedisFixture('budget');

/** A retry budget on `connection` that reads the test clock and this test's key prefix. */
const budget = (options: Partial<BudgetOptions> = {}, connection: Redis = fx.redis) =>
  createBudget(connection, {
    name: 'retry',
    ratio: 0.05,
    minPerWindow: 0,
    prefix: fx.prefix,
    now: () => fx.clock,
    ...options,
  });

describe('budget', () => {
  describe('when spends are asked for', () => {
    it('allows ratio × submissions, then refuses', async () => {
      const b = budget();
      await b.recordSubmission(series, 100);
      expect(await countSpends(b, series, 20)).toBe(5);
      expect(await b.usage(series)).toEqual({ submissions: 100, spent: 5 });
    });

    it('allows minPerWindow on top, even with no traffic', async () => {
      const b = budget({ minPerWindow: 2 });
      expect(await countSpends(b, series, 5)).toBe(2);
      await b.recordSubmission(series, 100);
      expect(await countSpends(b, series, 20)).toBe(5);
      expect(await b.usage(series)).toEqual({ submissions: 100, spent: 7 });
    });

    it('does not count refusals as spent', async () => {
      const b = budget();
      await b.recordSubmission(series, 20);
      expect(await countSpends(b, series, 10)).toBe(1);
      expect((await b.usage(series)).spent).toBe(1);
      // Spent is still 1, so one more submission (21 × 0.05 = 1.05) allows exactly one more spend;
      // had the 9 refusals counted, it would allow none.
      await b.recordSubmission(series);
      expect(await countSpends(b, series, 1)).toBe(1);
      expect(await countSpends(b, series, 1)).toBe(0);
    });

    it('does not round float noise up into an extra spend', async () => {
      // 0.07 × 100 = 7.000000000000001 in floating point.
      const b = budget({ ratio: 0.07 });
      await b.recordSubmission(series, 100);
      expect(await countSpends(b, series, 20)).toBe(7);
    });

    it('keeps budgets of different names and series apart', async () => {
      const retry = budget();
      const hedge = budget({ name: 'hedge' });
      await retry.recordSubmission(series, 100);
      expect(await countSpends(hedge, series, 3)).toBe(0);
      expect(await retry.tryConsume('other:edit')).toBe(false);
      expect(await countSpends(retry, series, 10)).toBe(5);
    });
  });

  describe('when the window rolls', () => {
    it('forgets spends and submissions older than windowMs', async () => {
      const b = budget({ windowMs: 60_000, buckets: 6 });
      await b.recordSubmission(series, 100);
      expect(await countSpends(b, series, 10)).toBe(5);
      fx.clock += 60_000;
      expect(await b.usage(series)).toEqual({ submissions: 0, spent: 0 });
      await b.recordSubmission(series, 100);
      expect(await countSpends(b, series, 10)).toBe(5);
    });

    it('rolls one bucket at a time', async () => {
      const b = budget({ windowMs: 60_000, buckets: 6 });
      await b.recordSubmission(series, 100); // bucket 0
      expect(await countSpends(b, series, 2)).toBe(2);
      fx.clock += 30_000;
      await b.recordSubmission(series, 100); // bucket 3
      expect(await countSpends(b, series, 3)).toBe(3);
      expect(await b.usage(series)).toEqual({ submissions: 200, spent: 5 });
      fx.clock += 30_000; // bucket 0 is out: 100 submissions and 3 spends remain
      expect(await b.usage(series)).toEqual({ submissions: 100, spent: 3 });
      expect(await countSpends(b, series, 10)).toBe(2);
    });

    it('prunes fields that left the window', async () => {
      const b = budget({ windowMs: 60_000, buckets: 6 });
      for (let i = 0; i < 20; i++) {
        await b.recordSubmission(series, 10);
        await b.tryConsume(series);
        fx.clock += 10_000;
      }
      const fields = await fx.redis.hkeys(`${fx.prefix}budget:retry:${series}`);
      expect(fields.length).toBeLessThanOrEqual(12);
    });
  });

  describe('when workers race for the last spends', () => {
    it('never allows more than the budget (50 concurrent calls from two connections)', async () => {
      const a = budget({}, fx.redis);
      const b = budget({}, fx.other);
      await a.recordSubmission(series, 100);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).tryConsume(series)),
      );
      expect(results.filter(Boolean)).toHaveLength(5);
      expect((await b.usage(series)).spent).toBe(5);
    });
  });
});
