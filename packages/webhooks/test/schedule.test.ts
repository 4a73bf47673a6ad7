import { describe, expect, it } from 'vitest';
import { DELIVERY_MAX_ATTEMPTS, DELIVERY_SCHEDULE_MS, nextDeliveryDelayMs } from '../src/index.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const almostOne = () => 0.999_999_9;

describe('nextDeliveryDelayMs', () => {
  it('follows the Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(DELIVERY_SCHEDULE_MS).toEqual([5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H]);
    expect(DELIVERY_MAX_ATTEMPTS).toBe(8);
  });

  it.each(DELIVERY_SCHEDULE_MS.map((ms, i) => [i + 1, ms]))(
    'after %i attempts waits the scheduled %i ms, give or take a fifth',
    (attemptsMade, scheduled) => {
      expect(nextDeliveryDelayMs(attemptsMade, { random: () => 0.5 })).toBe(scheduled);
      expect(nextDeliveryDelayMs(attemptsMade, { random: () => 0 })).toBe(Math.round(scheduled * 0.8));
      const top = nextDeliveryDelayMs(attemptsMade, { random: almostOne })!;
      expect(top).toBeLessThanOrEqual(scheduled * 1.2);
      expect(top).toBeGreaterThanOrEqual(scheduled * 1.2 - 1);
    },
  );

  it('spreads delays over the whole ±20 % band', () => {
    const delays = Array.from({ length: 2_000 }, () => nextDeliveryDelayMs(2)!);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0.8 * 5 * MIN);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1.2 * 5 * MIN);
    expect(delays.some((d) => d < 0.85 * 5 * MIN)).toBe(true);
    expect(delays.some((d) => d > 1.15 * 5 * MIN)).toBe(true);
  });

  it('scales the schedule (tests run it in seconds)', () => {
    expect(nextDeliveryDelayMs(1, { scale: 0.01, random: () => 0.5 })).toBe(50);
    expect(nextDeliveryDelayMs(7, { scale: 0.001, random: () => 0.5 })).toBe(36 * S);
  });

  it('is undefined once all 7 retries are spent', () => {
    expect(nextDeliveryDelayMs(7)).toBeGreaterThan(0);
    expect(nextDeliveryDelayMs(8)).toBeUndefined();
    expect(nextDeliveryDelayMs(50)).toBeUndefined();
  });

  describe('when the receiver sent Retry-After', () => {
    it('waits at least that long', () => {
      expect(nextDeliveryDelayMs(1, { retryAfterMs: 12 * S, random: () => 0.5 })).toBe(12 * S);
    });

    it('keeps the scheduled delay when it is already longer', () => {
      expect(nextDeliveryDelayMs(2, { retryAfterMs: 12 * S, random: () => 0.5 })).toBe(5 * MIN);
    });

    it('caps the hint at 4 × the scheduled delay', () => {
      expect(nextDeliveryDelayMs(1, { retryAfterMs: 3_600 * S, random: () => 0.5 })).toBe(20 * S);
      expect(nextDeliveryDelayMs(1, { retryAfterMs: 3_600 * S, scale: 0.01, random: () => 0.5 })).toBe(200);
    });
  });

  it('rejects attempt counts below 1', () => {
    expect(() => nextDeliveryDelayMs(0)).toThrow(RangeError);
    expect(() => nextDeliveryDelayMs(1.5)).toThrow(RangeError);
  });
});
