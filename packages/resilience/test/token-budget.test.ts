import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createTokenBudget, type TokenBudgetOptions } from '../src/index.js';
import { countSpends } from './count-spends.js';
import { useRedisFixture } from './redis-fixture.js';

const series = 'flux.2-dev-turbo:generate';

const fx = useRedisFixture('token-budget');

/** A hedge budget on `connection` that reads the test clock and this test's key prefix. */
const budget = (options: Partial<TokenBudgetOptions> = {}, connection: Redis = fx.redis) =>
  createTokenBudget(connection, {
    name: 'hedge',
    ratio: 0.1,
    floorPerWindow: 0,
    windowMs: 60_000,
    capacity: 5,
    prefix: fx.prefix,
    now: () => fx.clock,
    ...options,
  });

describe('token budget', () => {
  it('starts full, then allows ratio × submissions', async () => {
    const b = budget();
    expect(await countSpends(b, series, 10)).toBe(5);
    await b.recordSubmission(series, 30);
    expect(await countSpends(b, series, 10)).toBe(3);
    expect(await b.tokens(series)).toBeCloseTo(0);
  });

  it('never holds more than its capacity, however much traffic earned', async () => {
    const b = budget();
    await countSpends(b, series, 5);
    await b.recordSubmission(series, 1_000);
    expect(await b.tokens(series)).toBe(5);
    expect(await countSpends(b, series, 10)).toBe(5);
  });

  it('keeps unspent tokens past the window: a quiet series does not lose what it earned', async () => {
    const b = budget();
    await countSpends(b, series, 5);
    await b.recordSubmission(series, 20); // 2 tokens
    fx.clock += 10 * 60_000; // ten windows later, with no floor
    expect(await countSpends(b, series, 5)).toBe(2);
  });

  it('refills at the floor with no traffic at all, up to capacity', async () => {
    const b = budget({ ratio: 0, floorPerWindow: 2 });
    expect(await countSpends(b, series, 10)).toBe(5);
    fx.clock += 30_000; // half a window: one token
    expect(await countSpends(b, series, 3)).toBe(1);
    fx.clock += 60_000;
    expect(await countSpends(b, series, 3)).toBe(2);
    fx.clock += 60 * 60_000;
    expect(await b.tokens(series)).toBe(5);
  });

  it('reads the floor per window from windowMs (the setting scales it)', async () => {
    const b = budget({ ratio: 0, floorPerWindow: 1, windowMs: 6_000 });
    await countSpends(b, series, 5);
    fx.clock += 6_000;
    expect(await countSpends(b, series, 3)).toBe(1);
  });

  it('does not give tokens back when a host clock is behind', async () => {
    const b = budget({ ratio: 0, floorPerWindow: 60 });
    await countSpends(b, series, 5);
    fx.clock -= 60_000;
    expect(await countSpends(b, series, 1)).toBe(0);
  });

  it('keeps series and names apart', async () => {
    const hedge = budget();
    const other = budget({ name: 'retry' });
    await countSpends(hedge, series, 5);
    expect(await countSpends(other, series, 10)).toBe(5);
    expect(await hedge.tryConsume('flux.2-dev-flash:generate')).toBe(true);
    expect(await hedge.tryConsume(series)).toBe(false);
  });

  it('never overspends under concurrent spends from two connections', async () => {
    const a = budget({}, fx.redis);
    const b = budget({}, fx.other);
    await countSpends(a, series, 5);
    await a.recordSubmission(series, 30); // 3 tokens
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).tryConsume(series)),
    );
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await b.tokens(series)).toBeCloseTo(0);
  });
});
