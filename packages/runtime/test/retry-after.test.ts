import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../src/index.js';

const only = (name: string, value: string | undefined) => (header: string) =>
  header === name ? value : undefined;

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  it.each([
    ['7', 7_000],
    [' 120 ', 120_000],
    ['0', 0],
    ['1.5', 1_500],
    ['Fri, 02 Jan 2026 03:05:05 GMT', 60_000],
    ['Fri, 02 Jan 2026 03:00:00 GMT', 0],
    [undefined, undefined],
    ['', undefined],
    ['-5', undefined],
    ['1e3', undefined],
    ['soon', undefined],
  ])('reads Retry-After %j as %j ms', (value, ms) => {
    expect(parseRetryAfterMs(only('retry-after', value), now)).toBe(ms);
  });

  it('prefers retry-after-ms (milliseconds) and falls back to Retry-After when it is unreadable', () => {
    const both = (ms: string) => (name: string) => (name === 'retry-after-ms' ? ms : '9');
    expect(parseRetryAfterMs(both('1500'), now)).toBe(1_500);
    expect(parseRetryAfterMs(both('soon'), now)).toBe(9_000);
    expect(parseRetryAfterMs(only('retry-after-ms', '250'), now)).toBe(250);
  });
});
