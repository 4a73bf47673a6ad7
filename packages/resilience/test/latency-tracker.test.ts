import { MODELS } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLatencyTracker, type LatencyTrackerOptions, latencySeries } from '../src/index.js';
import { useRedisFixture } from './redis-fixture.js';

const turbo = MODELS['flux.2-dev-turbo'].latencyPrior;
const series = latencySeries('flux.2-dev-turbo', 'edit');

const fx = useRedisFixture('latency', 2, Date.UTC(2026, 0, 2, 3, 4, 5));

/** A tracker on `connection` that reads the test clock and this test's key prefix. */
const tracker = (options: LatencyTrackerOptions = {}, connection: Redis = fx.redis) =>
  createLatencyTracker(connection, { prefix: fx.prefix, cacheMs: 0, now: () => fx.clock, ...options });

/** `actual` is within one bucket (10 %) of `expected`. */
function expectWithinOneBucket(actual: number | undefined, expected: number) {
  expect(actual).toBeDefined();
  expect(Math.abs((actual ?? 0) / expected - 1)).toBeLessThanOrEqual(0.1);
}

/** `count` successes spread evenly over [fromMs, toMs). */
async function recordUniform(t: ReturnType<typeof tracker>, count: number, fromMs: number, toMs: number) {
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      t.record(series, { ok: true, totalMs: fromMs + ((toMs - fromMs) * i) / count }),
    ),
  );
}

describe('latency tracker', () => {
  describe('when a series has no samples', () => {
    it("answers with the model's prior", async () => {
      const snapshot = await tracker().snapshot(series);
      expect(snapshot).toMatchObject({
        series,
        samples: 0,
        failures: 0,
        successRate: undefined,
        usingPrior: true,
      });
      expectWithinOneBucket(snapshot.quantile(0.5), turbo.p50Ms);
      expectWithinOneBucket(snapshot.quantile(0.95), turbo.p95Ms);
      expect(snapshot.queue).toEqual({ p50Ms: undefined, p95Ms: undefined });
      expect(snapshot.run).toEqual({ p50Ms: undefined, p95Ms: undefined });
    });

    it('scales the prior by priorScale', async () => {
      const snapshot = await tracker({ priorScale: 0.01 }).snapshot(series);
      expectWithinOneBucket(snapshot.quantile(0.5), turbo.p50Ms * 0.01);
      expectWithinOneBucket(snapshot.quantile(0.95), turbo.p95Ms * 0.01);
    });

    it('answers fallbackMs when there is no prior either', async () => {
      const snapshot = await tracker({ priors: () => undefined, fallbackMs: 12_345 }).snapshot(
        'unknown:edit',
      );
      expect(snapshot.usingPrior).toBe(false);
      expect(snapshot.quantile(0.95)).toBe(12_345);
      expect(
        await tracker()
          .snapshot('not-a-model:edit')
          .then((s) => s.quantile(0.5)),
      ).toBe(60_000);
    });
  });

  describe('when samples arrive', () => {
    it('follows the data, not the prior, once there are minSamples successes', async () => {
      const t = tracker({ minSamples: 50 });
      await recordUniform(t, 200, 1_000, 2_000);
      const snapshot = await t.snapshot(series);
      expect(snapshot).toMatchObject({ samples: 200, usingPrior: false, successRate: 1 });
      expectWithinOneBucket(snapshot.quantile(0.5), 1_500);
      expectWithinOneBucket(snapshot.quantile(0.95), 1_950);
    });

    it('blends the prior in with weight minSamples − samples before that', async () => {
      const t = tracker({ minSamples: 50 });
      await recordUniform(t, 25, 1_000, 2_000);
      const snapshot = await t.snapshot(series);
      expect(snapshot).toMatchObject({ samples: 25, usingPrior: true });
      // Half real (1–2 s), half prior (p50 2.5 s, long tail): the median sits between them.
      expect(snapshot.quantile(0.5)).toBeGreaterThan(1_500);
      expect(snapshot.quantile(0.5)).toBeLessThan(turbo.p50Ms);
      expect(snapshot.quantile(0.95)).toBeGreaterThan(2_000);
    });

    it('counts failures in successRate but keeps them out of the completion quantiles', async () => {
      const t = tracker({ minSamples: 1 });
      for (let i = 0; i < 8; i++) await t.record(series, { ok: true, totalMs: 1_000 });
      for (let i = 0; i < 2; i++) await t.record(series, { ok: false, totalMs: 30_000 });
      const snapshot = await t.snapshot(series);
      expect(snapshot).toMatchObject({ samples: 8, failures: 2, successRate: 0.8 });
      expectWithinOneBucket(snapshot.quantile(0.99), 1_000);
      expectWithinOneBucket(snapshot.failure.p50Ms, 30_000);
    });

    it('keeps queue and run times as their own distributions', async () => {
      const t = tracker();
      for (let i = 0; i < 20; i++)
        await t.record(series, { ok: true, totalMs: 3_000, queueMs: 200, runMs: 2_800 });
      const snapshot = await t.snapshot(series);
      expectWithinOneBucket(snapshot.queue.p50Ms, 200);
      expectWithinOneBucket(snapshot.queue.p95Ms, 200);
      expectWithinOneBucket(snapshot.run.p95Ms, 2_800);
    });

    it('answers queue quantiles only from minSamples real queue samples on', async () => {
      const t = tracker({ minSamples: 10 });
      for (let i = 0; i < 9; i++)
        await t.record(series, { ok: true, totalMs: 1_000, queueMs: 100, runMs: 900 });
      expect((await t.snapshot(series)).queueQuantile(0.9)).toBeUndefined();
      await t.record(series, { ok: true, totalMs: 1_000, queueMs: 100, runMs: 900 });
      expectWithinOneBucket((await t.snapshot(series)).queueQuantile(0.9), 100);
    });

    it('keeps series apart', async () => {
      const t = tracker();
      await t.record(series, { ok: true, totalMs: 1_000 });
      expect((await t.snapshot(latencySeries('flux.2-dev-turbo', 'generate'))).samples).toBe(0);
    });
  });

  describe('when several processes share Redis', () => {
    it("sees the other process's samples", async () => {
      const a = tracker({}, fx.redis);
      const b = tracker({}, fx.other);
      await a.record(series, { ok: true, totalMs: 1_000 });
      await b.record(series, { ok: false, totalMs: 5_000 });
      for (const t of [a, b]) {
        expect(await t.snapshot(series)).toMatchObject({ samples: 1, failures: 1, successRate: 0.5 });
      }
    });
  });

  describe('when time passes', () => {
    it('drops windows older than windows × windowMs', async () => {
      const t = tracker({ windowMs: 60_000, windows: 30 });
      await t.record(series, { ok: true, totalMs: 1_000 });
      fx.clock += 29 * 60_000;
      await t.record(series, { ok: true, totalMs: 1_000 });
      expect((await t.snapshot(series)).samples).toBe(2);
      fx.clock += 60_000;
      expect((await t.snapshot(series)).samples).toBe(1);
      fx.clock += 29 * 60_000;
      expect(await t.snapshot(series)).toMatchObject({ samples: 0, usingPrior: true });
    });

    it('lets Redis expire the keys after the last window they count in', async () => {
      const t = tracker({ windowMs: 60_000, windows: 30 });
      await t.record(series, { ok: true, totalMs: 1_000 });
      const [key] = await fx.redis.keys(`${fx.prefix}latency:*`);
      expect(key).toBe(`${fx.prefix}latency:${series}:${Math.floor(fx.clock / 60_000)}`);
      const ttl = await fx.redis.pttl(key ?? '');
      expect(ttl).toBeGreaterThan(30 * 60_000);
      expect(ttl).toBeLessThanOrEqual(31 * 60_000);
    });
  });

  describe('when reads are cached', () => {
    it('serves the same snapshot for cacheMs, then reads Redis again', async () => {
      const t = tracker({ cacheMs: 5_000 });
      expect((await t.snapshot(series)).samples).toBe(0);
      await t.record(series, { ok: true, totalMs: 1_000 });
      fx.clock += 4_999;
      expect((await t.snapshot(series)).samples).toBe(0);
      fx.clock += 1;
      expect((await t.snapshot(series)).samples).toBe(1);
    });

    it('reads Redis again after invalidate()', async () => {
      const t = tracker({ cacheMs: 5_000 });
      expect((await t.snapshot(series)).samples).toBe(0);
      await t.record(series, { ok: true, totalMs: 1_000 });
      t.invalidate();
      expect((await t.snapshot(series)).samples).toBe(1);
    });
  });
});

describe('latency samples gathered in memory (flushEveryMs)', () => {
  /** A timer that never fires during a test: every write below is an explicit flush or close. */
  const gathered = () => tracker({ flushEveryMs: 3_600_000 });

  it('another process sees the samples once flushed, as if written one by one; close writes the rest', async () => {
    const writer = gathered();
    const reader = tracker({}, fx.other);
    await recordUniform(writer, 60, 1_000, 3_000);
    await writer.record(series, { ok: false, totalMs: 500 });
    expect((await reader.snapshot(series)).samples).toBe(0);
    await writer.flush();
    const flushed = await reader.snapshot(series);
    expect(flushed.samples).toBe(60);
    expect(flushed.failures).toBe(1);

    // The same samples written one by one, under keys of their own (trackers keep their prefix).
    fx.prefix = `${fx.prefix}direct:`;
    const direct = tracker();
    await recordUniform(direct, 60, 1_000, 3_000);
    await direct.record(series, { ok: false, totalMs: 500 });
    const written = await direct.snapshot(series);
    for (const q of [0.5, 0.9, 0.99]) expect(flushed.quantile(q)).toBe(written.quantile(q));

    await writer.record(series, { ok: true, totalMs: 2_000 });
    await writer.close();
    expect((await reader.snapshot(series)).samples).toBe(61);
  });
});
