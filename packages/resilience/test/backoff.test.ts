import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../src/index.js';

const policy = { baseMs: 100, capMs: 1_000 };
const almostOne = () => 0.999_999_9;

describe('backoffDelayMs', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [50, 1_000],
    [5_000, 1_000],
  ])('after %i failures the ceiling is %i ms', (failures, ceiling) => {
    // Uniform in [0, ceiling): whole milliseconds below the ceiling.
    expect(backoffDelayMs(failures, policy, { random: almostOne })).toBe(ceiling - 1);
    expect(backoffDelayMs(failures, policy, { random: () => 0 })).toBe(0);
  });

  it('spreads delays over the whole range up to the ceiling (full jitter)', () => {
    expect(backoffDelayMs(3, policy, { random: () => 0.25 })).toBe(100);
    expect(backoffDelayMs(3, policy, { random: () => 0.5 })).toBe(200);
    const delays = Array.from({ length: 2_000 }, () => backoffDelayMs(4, policy));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(800);
    // Full jitter: both the bottom and the top fifth of the range are hit.
    expect(delays.some((d) => d < 160)).toBe(true);
    expect(delays.some((d) => d > 640)).toBe(true);
  });

  it('never waits less than a Retry-After hint, even past the cap', () => {
    expect(backoffDelayMs(1, policy, { retryAfterMs: 5_000, random: () => 0 })).toBe(5_000);
    expect(backoffDelayMs(1, policy, { retryAfterMs: 5_000, random: almostOne })).toBe(5_000);
    expect(backoffDelayMs(10, policy, { retryAfterMs: 250, random: () => 0 })).toBe(250);
  });

  it('keeps the jittered delay when it is already longer than the hint', () => {
    expect(backoffDelayMs(5, policy, { retryAfterMs: 250, random: () => 0.5 })).toBe(500);
  });

  it('ignores a hint that is not a number', () => {
    expect(backoffDelayMs(2, policy, { retryAfterMs: Number.NaN, random: () => 0.5 })).toBe(100);
  });

  it('rejects failure counts below 1', () => {
    expect(() => backoffDelayMs(0, policy)).toThrow(RangeError);
    expect(() => backoffDelayMs(Number.NaN, policy)).toThrow(RangeError);
  });
});
