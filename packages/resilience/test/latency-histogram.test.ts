import { MODELS } from '@fluxq/core';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  bucketUpperMs,
  HISTOGRAM_BUCKETS,
  lognormalPriorCounts,
  mergeCounts,
  quantile,
  totalCount,
} from '../src/index.js';

const turbo = MODELS['flux.2-dev-turbo'].latencyPrior;
const flash = MODELS['flux.2-dev-flash'].latencyPrior;

/** `actual` is within one bucket (10 %) of `expected`. */
function expectWithinOneBucket(actual: number | undefined, expected: number) {
  expect(actual).toBeDefined();
  expect(Math.abs((actual ?? 0) / expected - 1)).toBeLessThanOrEqual(0.1);
}

describe('buckets', () => {
  it('grow by 10 % from 10 ms to past one hour', () => {
    expect(bucketUpperMs(0)).toBe(10);
    expect(bucketUpperMs(1)).toBeCloseTo(11);
    expect(bucketUpperMs(HISTOGRAM_BUCKETS - 1)).toBeGreaterThanOrEqual(3_600_000);
    expect(bucketUpperMs(HISTOGRAM_BUCKETS - 2)).toBeLessThan(3_600_000);
  });

  it('put every duration in the bucket whose bounds hold it', () => {
    for (const ms of [10.5, 11, 12, 99, 100, 2_476, 13_297, 58_000, 3_000_000]) {
      const i = bucketOf(ms);
      expect(bucketUpperMs(i)).toBeGreaterThanOrEqual(ms);
      expect(bucketUpperMs(i - 1)).toBeLessThan(ms);
    }
  });

  it('put short, negative and NaN durations in bucket 0 and huge ones in the last', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(10)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(Number.NaN)).toBe(0);
    expect(bucketOf(1e12)).toBe(HISTOGRAM_BUCKETS - 1);
  });
});

describe('quantile', () => {
  it('is undefined for an empty histogram', () => {
    expect(quantile(new Map(), 0.5)).toBeUndefined();
    expect(quantile({}, 0.99)).toBeUndefined();
    expect(quantile({ 3: 0 }, 0.5)).toBeUndefined();
  });

  it('reads Maps and Redis-style records alike', () => {
    const i = bucketOf(1_000);
    expect(quantile(new Map([[i, 4]]), 0.5)).toBe(quantile({ [i]: 4 }, 0.5));
  });

  it('lands in the bucket holding the q-quantile', () => {
    // 90 samples at ~100 ms, 10 at ~10 s.
    const counts = { [bucketOf(100)]: 90, [bucketOf(10_000)]: 10 };
    expectWithinOneBucket(quantile(counts, 0.5), 100);
    expectWithinOneBucket(quantile(counts, 0.89), 100);
    expectWithinOneBucket(quantile(counts, 0.95), 10_000);
    expectWithinOneBucket(quantile(counts, 1), 10_000);
  });

  it('follows a uniform distribution within one bucket', () => {
    const counts = new Map<number, number>();
    for (let ms = 1_000; ms < 2_000; ms++) counts.set(bucketOf(ms), (counts.get(bucketOf(ms)) ?? 0) + 1);
    expectWithinOneBucket(quantile(counts, 0.5), 1_500);
    expectWithinOneBucket(quantile(counts, 0.95), 1_950);
  });
});

describe('mergeCounts', () => {
  it('adds bucket by bucket', () => {
    const merged = mergeCounts(new Map([[1, 2]]), { 1: 3, 5: 1 }, {});
    expect([...merged.entries()].sort()).toEqual([
      [1, 5],
      [5, 1],
    ]);
    expect(totalCount(merged)).toBe(6);
  });
});

describe('lognormalPriorCounts', () => {
  it('spreads exactly `weight` pseudo-samples', () => {
    expect(totalCount(lognormalPriorCounts(turbo, 50))).toBeCloseTo(50, 5);
    expect(totalCount(lognormalPriorCounts(turbo, 0))).toBe(0);
  });

  it.each([
    ['Turbo', turbo],
    ['Flash', flash],
  ])('reproduces the %s prior p50 and p95 within one bucket', (_name, prior) => {
    const counts = lognormalPriorCounts(prior, 50);
    expectWithinOneBucket(quantile(counts, 0.5), prior.p50Ms);
    expectWithinOneBucket(quantile(counts, 0.95), prior.p95Ms);
  });

  it('puts the Turbo p99.9 near 58 s', () => {
    expectWithinOneBucket(quantile(lognormalPriorCounts(turbo, 50), 0.999), 58_200);
  });

  it('scales durations by `scale`', () => {
    const counts = lognormalPriorCounts(turbo, 50, 0.01);
    expectWithinOneBucket(quantile(counts, 0.5), turbo.p50Ms * 0.01);
    expectWithinOneBucket(quantile(counts, 0.95), turbo.p95Ms * 0.01);
  });

  it('puts all the weight at p50 when p95 is not above it', () => {
    const counts = lognormalPriorCounts({ p50Ms: 1_000, p95Ms: 1_000 }, 7);
    expect([...counts.entries()]).toEqual([[bucketOf(1_000), 7]]);
  });
});
